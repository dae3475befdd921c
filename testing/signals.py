"""``SignalSimulator``: deliver SIGINT/SIGTERM/SIGHUP to an app under test at a chosen point.

A signal is delivered the way the OS would: in the app's thread, to the app's
``signal_handler`` (the handler it installs), at once, so the app's real shutdown path runs
and the test process survives. Points: now, after N turns of the loop (a turn is one sleep),
or at a virtual time.

An app ends its process at once (``OpenFactoryApp.force_exit``) on a third stop signal or when a
shutdown started by a signal outlives its budget. For an app it delivered to, the simulator
records that in ``forced_exits`` instead, and raises ``SystemExit(status)`` when it happens in
the main thread (so a test sees the exit status the process would have had).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openfactory.errors import ConfigurationError
from openfactory.testing.clock import VirtualClock

_ALLOWED = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A signal that was delivered: which, at which turn and virtual time."""

    signum: int
    turn: int
    at: datetime | None

    @property
    def name(self) -> str:
        """``SIGTERM``, ``SIGINT`` or ``SIGHUP``."""
        return signal.Signals(self.signum).name


def deliver(app: Any, signum: int) -> None:
    """Deliver ``signum`` to ``app`` in the calling thread, as the OS would: its
    ``signal_handler`` runs now.

    Raises ``ConfigurationError`` for a signal that is not a stop signal.
    """
    _check(signum)
    # Not signal.raise_signal: Python runs a raised signal's handler at the main thread's next
    # check for pending calls, and such a check made by another thread can put it off (seen:
    # an app stopped three turns late under load). Called here, the handler runs where the
    # OS delivery would have interrupted the app, every time.
    app.signal_handler(signum, None)


class SignalSimulator:
    """Schedules signals for apps running under ``clock``; ``delivered`` lists what was sent."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.delivered: list[Delivery] = []
        #: Exit statuses the apps would have ended the process with (``force_exit``).
        self.forced_exits: list[int] = []
        self._removers: list[Callable[[], None]] = []

    def send(self, app: Any, signum: int = signal.SIGTERM) -> None:
        """Deliver ``signum`` now (outside ``run()`` this shuts the app down with exit 0)."""
        _check(signum)
        self.delivered.append(
            Delivery(signum, self.clock.turns, self.clock.now() if self.clock.active else None)
        )
        self._keep_process(app)
        deliver(app, signum)

    def after_turns(self, app: Any, turns: int, signum: int = signal.SIGTERM) -> None:
        """Deliver ``signum`` when the app's loop has slept ``turns`` times (``turns`` >= 1)."""
        if turns < 1:
            raise ConfigurationError(f"after_turns needs turns >= 1, got {turns}")
        target = self.clock.turns + turns
        self._once(app, signum, lambda turn, _now: turn >= target)

    def at_time(self, app: Any, seconds: float, signum: int = signal.SIGTERM) -> None:
        """Deliver ``signum`` at the first turn ending ``seconds`` or more of virtual time in."""
        if seconds < 0:
            raise ConfigurationError(f"at_time needs seconds >= 0, got {seconds}")
        self._once(app, signum, lambda _turn, _now: self.clock.elapsed >= seconds)

    def cancel(self) -> None:
        """Drop every signal not delivered yet."""
        for remove in self._removers:
            remove()
        self._removers.clear()

    def _once(self, app: Any, signum: int, due: Callable[[int, datetime], bool]) -> None:
        _check(signum)
        self._keep_process(app)
        fired = False

        def hook(turn: int, now: datetime) -> None:
            nonlocal fired
            if not fired and due(turn, now):
                fired = True
                remove()
                self.delivered.append(Delivery(signum, turn, now))
                deliver(app, signum)

        remove = self.clock.on_turn(hook)
        self._removers.append(remove)

    def _keep_process(self, app: Any) -> None:
        """Make ``app.force_exit`` record the exit instead of ending the test process."""
        if getattr(app, "force_exit", None) is None:
            return

        def forced_exit(status: int) -> None:
            self.forced_exits.append(status)
            if threading.current_thread() is threading.main_thread():
                raise SystemExit(status)

        app.force_exit = forced_exit


def _check(signum: int) -> None:
    if signum not in _ALLOWED:
        raise ConfigurationError(
            f"signal {signum!r} is not simulated; use signal.SIGINT, signal.SIGTERM or "
            "signal.SIGHUP"
        )
