"""How an app is stopped by signals: the handlers it takes and gives back, the signal that
stopped it, when its shutdown must be over, and what happens to the signals after that one.

The rules (``OpenFactoryApp.signal_handler`` applies them):

- SIGINT, SIGTERM and SIGHUP stop the app; the shutdown budget starts with the signal.
- A signal while the app is stopping is logged and ignored; one more ends the process at once
  (``OpenFactoryApp.force_exit``, status 128 + the signal's number).
- A shutdown started by a signal that is not over when its budget runs out ends the process
  the same way (``Watchdog``): the container runtime would SIGKILL it a little later anyway,
  with no line saying why.
- Once shut down, the app gives each signal back to whoever had it before (another app still
  running, or the handler from before any app), so that it can be freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import threading
import weakref
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple

from openfactory import _clock
from openfactory._threads import start_background_thread

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

Handler = Callable[[int, FrameType | None], None]

# signal.signal and signal.getsignal wrap these C functions and turn the handler they return
# into an enum member, failing (with an exception raised and caught) for each Python handler:
# five times the cost of the call. Every app and every test harness swaps handlers.
try:
    _raw_signal: Any = importlib.import_module("_signal")
except ImportError:  # an interpreter without the C module under ``signal``
    _raw_signal = signal


def set_handler(signum: int, handler: Any) -> Any:
    """Make ``handler`` the handler of ``signum`` (main thread only, as ``signal.signal``) and
    return the one it had: ``SIG_DFL``/``SIG_IGN`` come back as the numbers they equal."""
    return _raw_signal.signal(signum, handler)


def handler_of(signum: int) -> Any:
    """The handler of ``signum`` (``signal.getsignal``, ``SIG_DFL``/``SIG_IGN`` as numbers)."""
    return _raw_signal.getsignal(signum)


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, the number as text for a signal Python does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


class StopSignals:
    """The stop signals of one app; ``force_exit(status)`` ends the process."""

    def __init__(
        self, logger: logging.Logger, budget: float, force_exit: Callable[[int], None]
    ) -> None:
        self.budget = budget
        #: The signal that stopped the app, and when its shutdown must be over.
        self.signum: int | None = None
        self.deadline: float | None = None
        #: Set when the app's shutdown is over: its handler is no one's to give back to.
        self.done = False
        self._logger = logger
        self._force_exit = force_exit
        self._repeats = 0
        self._watchdog: Watchdog | None = None
        self._previous: dict[int, _Previous] = {}

    # the stop ----------------------------------------------------------------------------
    def stopped_by(self, signum: int) -> float:
        """The app is stopped by ``signum`` now; returns when its shutdown must be over."""
        self.signum = signum
        self.deadline = _clock.monotonic() + self.budget
        return self.deadline

    def shutdown_deadline(self) -> float:
        """When the shutdown starting now must be over: the signal's deadline, or a budget
        from now."""
        if self.deadline is None:
            self.deadline = _clock.monotonic() + self.budget
        return self.deadline

    def repeated(self, signum: int) -> None:
        """A signal while the app is stopping: the first is ignored, the next ends the process."""
        name = signal_name(signum)
        self._repeats += 1
        if self._repeats == 1:
            self._logger.warning(
                "received %s while stopping: ignored, the shutdown goes on (at most %.1f s); "
                "another signal ends the process at once",
                name,
                self.budget,
            )
            if self.signum is None:
                # A shutdown no signal started (the loop ended) now has a process waiting for
                # it to end: bound it as a signalled one.
                self.signum = signum
                if self.deadline is not None:
                    self.watch()
            return
        status = 128 + signum
        self._logger.error(
            "received %s again while stopping: exiting now with status %d, shutdown unfinished",
            name,
            status,
        )
        self._force_exit(status)

    def watch(self) -> None:
        """End the process if the shutdown of an app stopped by a signal is not over by its
        deadline (nothing when no signal stopped it, or already watched)."""
        if self.signum is None or self.deadline is None or self._watchdog is not None:
            return
        status = 128 + self.signum

        def overrun() -> None:
            # Logged from a thread of its own: a main thread stuck writing to a full stderr
            # pipe holds the handler's lock, and the exit must not wait for it.
            say = start_background_thread(
                lambda: self._logger.error(
                    "shutdown still running after its %.1f s budget: exiting now with status %d",
                    self.budget,
                    status,
                ),
                name="openfactory-shutdown-overrun",
            )
            say.join(0.5)
            self._force_exit(status)

        self._watchdog = Watchdog(self.deadline, overrun)

    def over(self) -> None:
        """The shutdown is over: no forced exit."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.disarm()

    # the handlers ------------------------------------------------------------------------
    def install(self, handler: Handler) -> bool:
        """Make ``handler`` the handler of every stop signal; False outside the main thread
        (where Python cannot set one)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in STOP_SIGNALS:
            self._previous[signum] = _Previous.of(signum, set_handler(signum, handler))
        return True

    def restore(self, handler: Handler) -> None:
        """The app is shut down: give each signal whose handler is still ``handler`` back to
        whoever had it before (only the main thread can; elsewhere the handler stays)."""
        self.done = True
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, previous in self._previous.items():
            if handler_of(signum) == handler:  # else someone took it since: theirs stays
                set_handler(signum, previous.handler())

    def install_on_loop(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> list[int]:
        """Have ``loop`` call ``handler(signum, None)`` for each stop signal; returns those
        it took (none outside the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return []
        installed: list[int] = []
        for signum in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, handler, signum, None)
                installed.append(signum)
        return installed

    def leave_loop(
        self, loop: asyncio.AbstractEventLoop, installed: list[int], handler: Handler
    ) -> None:
        """Hand the ``installed`` signals from ``loop`` back to ``handler`` with no gap (the
        signals held meanwhile): removing a loop handler restores the default action, which
        would let a second signal kill the process during the shutdown that blocks the loop."""
        if not installed:
            return
        masked = hasattr(signal, "pthread_sigmask")
        if masked:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, installed)
        try:
            for signum in installed:
                loop.remove_signal_handler(signum)
                set_handler(signum, handler)
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class _Previous(NamedTuple):
    """The handler a signal had before an app took it: another app's (held weakly, so that it
    can be freed) and, under it, the handler that was there before any app."""

    app_handler: weakref.WeakMethod[Handler] | None
    base: Any

    @classmethod
    def of(cls, signum: int, handler: Any) -> _Previous:
        owner = _signals_of(handler)
        if owner is None:
            return cls(None, handler)
        below = owner._previous.get(signum)
        return cls(weakref.WeakMethod(handler), below.base if below else signal.SIG_DFL)

    def handler(self) -> Any:
        """The earlier app's handler while that app lives and is not shut down, else the one
        from before any app."""
        app_handler = self.app_handler() if self.app_handler is not None else None
        owner = _signals_of(app_handler)
        return app_handler if owner is not None and not owner.done else self.base


def _signals_of(handler: Any) -> StopSignals | None:
    """The ``StopSignals`` of the app whose bound ``signal_handler`` ``handler`` is, if any."""
    signals = getattr(getattr(handler, "__self__", None), "_signals", None)
    return signals if isinstance(signals, StopSignals) else None


class Watchdog:
    """Calls ``on_overrun()`` on a thread of its own if not ``disarm()``ed by ``deadline``
    (``openfactory._clock.monotonic``): the bound on a shutdown a step overran (an
    ``app_event_loop_stopped`` that hangs, a publish waiting for room in a full queue)."""

    def __init__(self, deadline: float, on_overrun: Callable[[], None]) -> None:
        self._deadline = deadline
        self._on_overrun = on_overrun
        self._disarmed = threading.Event()
        self._thread = start_background_thread(self._watch, name="openfactory-shutdown-watchdog")

    def disarm(self) -> None:
        """The shutdown ended in time: ``on_overrun`` will not be called. Returns once the
        watchdog's thread has ended (it holds the app until then)."""
        self._disarmed.set()
        if self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def _watch(self) -> None:
        # Event.wait times out on the real clock; the loop guards against early wake-ups.
        while not self._disarmed.wait(max(self._deadline - _clock.monotonic(), 0.0)):
            if _clock.monotonic() >= self._deadline:
                self._on_overrun()
                return
