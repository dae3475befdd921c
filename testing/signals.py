"""``SignalSimulator``: deliver SIGINT/SIGTERM to an app under test at a chosen point.

A signal is delivered the way the OS would: in the app's thread, through the handler the app
installed (``signal.raise_signal`` when that handler is in place in the main thread, else the
app's ``signal_handler`` directly), so the app's real shutdown path runs and the test process
survives. Points: now, after N turns of the loop (a turn is one sleep), or at a virtual time.
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

_ALLOWED = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A signal that was delivered: which, at which turn and virtual time."""

    signum: int
    turn: int
    at: datetime | None

    @property
    def name(self) -> str:
        """``SIGTERM`` or ``SIGINT``."""
        return signal.Signals(self.signum).name


def deliver(app: Any, signum: int) -> None:
    """Deliver ``signum`` to ``app`` in the calling thread, as the OS would."""
    _check(signum)
    in_main = threading.current_thread() is threading.main_thread()
    if in_main and signal.getsignal(signum) == app.signal_handler:
        signal.raise_signal(signum)
    else:
        app.signal_handler(signum, None)


class SignalSimulator:
    """Schedules signals for apps running under ``clock``; ``delivered`` lists what was sent."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.delivered: list[Delivery] = []
        self._removers: list[Callable[[], None]] = []

    def send(self, app: Any, signum: int = signal.SIGTERM) -> None:
        """Deliver ``signum`` now (outside ``run()`` this shuts the app down with exit 0)."""
        _check(signum)
        self.delivered.append(
            Delivery(signum, self.clock.turns, self.clock.now() if self.clock.active else None)
        )
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


def _check(signum: int) -> None:
    if signum not in _ALLOWED:
        raise ConfigurationError(
            f"signal {signum!r} is not simulated; use signal.SIGINT or signal.SIGTERM"
        )
