"""Stop signals sent to a real app process (``tests/support/stoppable_app.py``), as a container
runtime or an operator sends them: a second signal during the shutdown is logged and ignored, a
third ends the process at once, as does a shutdown that outlives its budget; SIGHUP stops the app
as SIGTERM does; the exit status says when records were lost."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from openfactory._clock import monotonic

APP = Path(__file__).parents[1] / "support" / "stoppable_app.py"
TIMEOUT = 30.0
DEREGISTERED = "avail=AVAILABLE,UNAVAILABLE tombstones=3"


class AppProcess:
    """``stoppable_app.py`` running; its output lines are read as they come."""

    def __init__(self, mode: str, **env: str) -> None:
        settings = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "SWARM_"))}
        settings.update(env)
        self.process = subprocess.Popen(
            [sys.executable, str(APP), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=settings,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.lines: list[str] = []
        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    @staticmethod
    def _read(stream: object, into: queue.Queue[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.put(line.rstrip("\n"))

    def wait_for(self, text: str, stream: str = "out") -> None:
        """Wait for a line containing ``text`` on stdout (``out``) or stderr (``err``)."""
        source = self.out if stream == "out" else self.err
        deadline = monotonic() + TIMEOUT
        while True:
            try:
                line = source.get(timeout=max(deadline - monotonic(), 0.01))
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"no line with {text!r} within {TIMEOUT}s; got {self.lines}")
            self.lines.append(line)
            if text in line:
                return

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def finish(self) -> tuple[int, list[str], float]:
        """Wait for the process to end: its exit status, every line it wrote, seconds waited."""
        started = monotonic()
        try:
            self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the app did not exit within {TIMEOUT}s (deadlocked?): {self.drain()}")
        return self.process.returncode, self.drain(), monotonic() - started

    def drain(self) -> list[str]:
        for source in (self.out, self.err):
            while not source.empty():
                self.lines.append(source.get())
        return self.lines


@pytest.fixture
def start() -> object:
    started: list[AppProcess] = []

    def start_app(mode: str, **env: str) -> AppProcess:
        app = AppProcess(mode, **env)
        started.append(app)
        app.wait_for("running")
        return app

    yield start_app
    for app in started:
        if app.process.poll() is None:
            app.process.kill()
        app.process.wait()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_second_signal_during_shutdown_is_logged_and_ignored(start, mode: str) -> None:
    app = start(mode, HOOK_SECONDS="1")
    app.send(signal.SIGTERM)
    app.wait_for("stopping")
    app.send(signal.SIGTERM)
    app.wait_for("received SIGTERM while stopping: ignored", "err")
    status, lines, _ = app.finish()
    assert status == 0, lines
    assert "stopped" in lines and DEREGISTERED in lines


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_third_signal_ends_the_process_at_once(start, mode: str) -> None:
    app = start(mode, HOOK_SECONDS="60")
    app.send(signal.SIGTERM)
    app.wait_for("stopping")
    app.send(signal.SIGINT)
    app.wait_for("received SIGINT while stopping: ignored", "err")
    app.send(signal.SIGTERM)
    status, lines, seconds = app.finish()
    assert status == 128 + signal.SIGTERM, lines
    assert "stopped" not in lines and seconds < 10
    assert any("received SIGTERM again while stopping: exiting now" in line for line in lines)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_shutdown_that_outlives_its_budget_is_ended(start, mode: str) -> None:
    app = start(mode, HOOK_SECONDS="60", OPENFACTORY_SHUTDOWN_TIMEOUT="1")
    app.send(signal.SIGTERM)
    app.wait_for("stopping")
    status, lines, seconds = app.finish()
    assert status == 128 + signal.SIGTERM, lines
    assert seconds < 10 and "stopped" not in lines
    assert any("shutdown still running after its 1.0 s budget" in line for line in lines)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sighup_stops_the_app_as_sigterm_does(start, mode: str) -> None:
    app = start(mode)
    app.send(signal.SIGHUP)
    status, lines, _ = app.finish()
    assert status == 0, lines
    assert DEREGISTERED in lines


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_shutdown_that_lost_records_exits_non_zero(start, mode: str) -> None:
    app = start(mode, LOSE_RECORDS="1", OPENFACTORY_SHUTDOWN_TIMEOUT="0.5")
    app.send(signal.SIGTERM)
    status, lines, seconds = app.finish()
    assert status == 1, lines
    # 5 notes, UNAVAILABLE, 2 references, 4 deregistration records: the frozen broker holds all.
    assert any("shutdown lost 12 record(s): 12 still queued at its end" in line for line in lines)
    assert seconds < 5
