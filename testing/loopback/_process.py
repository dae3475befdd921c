"""A broker run as a child process on loopback: a free port for it, its end, its stop state."""

from __future__ import annotations

import os
import socket
import subprocess

from openfactory import _clock
from openfactory.errors import TransportError


def free_port(host: str) -> int:
    """A TCP port free on ``host`` right now (another process may take it before it is used)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def end_process(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` (paused or not) and reap it."""
    if process.poll() is None:
        process.kill()
    process.wait()


def wait_until_stopped(pid: int, stopped: bool, timeout: float) -> None:
    """Wait until process ``pid`` is stopped by a signal (``stopped``) or runs again.

    Linux only (``/proc``); elsewhere the signal is trusted to have landed. Raises
    ``TransportError`` past ``timeout`` seconds.
    """
    stat = f"/proc/{pid}/stat"
    if not os.path.exists(stat):
        return
    deadline = _clock.monotonic() + timeout
    while True:
        try:
            with open(stat) as handle:
                # The state follows the command name in parentheses, which may hold spaces.
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return  # the process is gone: nothing left to wait for
        if (state in ("T", "t")) == stopped:
            return
        if _clock.monotonic() >= deadline:
            raise TransportError(
                f"the broker process {pid} did not {'stop' if stopped else 'continue'} "
                f"within {timeout}s (state {state!r})"
            )
        _clock.sleep(0.005)  # process state changes raise no event to wait on
