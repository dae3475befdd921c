"""Virtual time for apps under test: freezegun for the app's code, an injected clock for the SDK.

Inside a ``VirtualClock``, ``time.time``/``monotonic``/``datetime.now`` seen by the app return
virtual time, and ``time.sleep``/``asyncio.sleep`` advance it instead of blocking, so a loop
that sleeps 2 s a turn runs thousands of turns per second. Each sleep is one *turn*; hooks
run after every turn (the signal simulator uses them to stop an app at a chosen point).

The SDK is not reached through freezegun: it reads time through ``openfactory._clock``, whose
wall clock (record timestamps) this clock swaps for its own while running, and whose monotonic
clock and sleep (the SDK's timeouts and waits) stay real.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import freezegun

from openfactory import _clock
from openfactory.errors import ConfigurationError

TurnHook = Callable[[int, datetime], None]

# Third-party packages whose own clock reads stay real (freezegun's default list adds threading,
# queue, multiprocessing): httpcore expires pooled keep-alive connections and httpx measures
# ``Response.elapsed`` with time.monotonic/perf_counter, and the SDK's ksqlDB client runs on them
# in the app's thread. The SDK itself needs no entry here: it reads time through _clock.
_REAL_TIME_PACKAGES = ("httpx", "httpcore")
_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


class VirtualClock:
    """A freezegun-compatible virtual clock: use as a context manager.

    ``start`` is an aware datetime (naive is taken as UTC) or ISO text; by default the real
    time at which the clock is entered, so timestamps never run backwards.
    Raises ``ConfigurationError`` for an unparseable start or a negative advance.
    """

    def __init__(self, start: datetime | str | None = None) -> None:
        self._fixed_start = start is not None
        if start is None:
            start = _clock.now()
        if isinstance(start, str):
            try:
                start = datetime.fromisoformat(start.replace("Z", "+00:00"))
            except ValueError:
                raise ConfigurationError(
                    f"VirtualClock start {start!r} is not an ISO 8601 datetime"
                ) from None
        self.start = start if start.tzinfo else start.replace(tzinfo=UTC)
        self.turns = 0
        self._hooks: list[TurnHook] = []
        self._freezer: Any = None
        self._frozen: Any = None
        self._sdk_wall_clock: _clock.WallClock | None = None
        self._real_sleep = time.sleep
        self._real_async_sleep = asyncio.sleep
        self._lock = threading.Lock()

    # context ----------------------------------------------------------------------------
    def __enter__(self) -> VirtualClock:
        if not self._fixed_start:
            self.start = _clock.now()
        self._freezer = freezegun.freeze_time(self.start, ignore=list(_REAL_TIME_PACKAGES))
        self._frozen = self._freezer.start()
        self._sdk_wall_clock = _clock.set_wall_clock(_wall_clock_of(self._frozen))
        self._real_sleep, self._real_async_sleep = time.sleep, asyncio.sleep
        time.sleep = self.sleep  # type: ignore[assignment]
        asyncio.sleep = self.async_sleep  # type: ignore[assignment]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        time.sleep = self._real_sleep
        asyncio.sleep = self._real_async_sleep  # type: ignore[assignment]
        _clock.set_wall_clock(self._sdk_wall_clock)
        self._freezer.stop()
        self._freezer = self._frozen = None

    @property
    def active(self) -> bool:
        """True inside the ``with`` block."""
        return self._frozen is not None

    # time -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Current virtual time (aware, UTC)."""
        self._require_active()
        return self._frozen().replace(tzinfo=UTC)

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the clock started."""
        return (self.now() - self.start).total_seconds()

    def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` (>= 0) without counting a turn."""
        self._require_active()
        if seconds < 0:
            raise ConfigurationError(f"cannot move virtual time backwards ({seconds} s)")
        with self._lock:
            self._frozen.tick(timedelta(seconds=seconds))

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` under the clock: advance virtual time, count a turn, run the hooks."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.advance(seconds)
        with self._lock:
            self.turns += 1
            turn = self.turns
        for hook in list(self._hooks):
            hook(turn, self.now())

    async def async_sleep(self, delay: float, result: Any = None) -> Any:
        """``asyncio.sleep`` under the clock: a virtual sleep, then one real event-loop yield."""
        self.sleep(delay)
        await self._real_async_sleep(0)
        return result

    def on_turn(self, hook: TurnHook) -> Callable[[], None]:
        """Call ``hook(turn, now)`` after every sleep; returns a function that removes it."""
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    def _require_active(self) -> None:
        if self._frozen is None:
            raise ConfigurationError("the VirtualClock is not running: use it as `with clock:`")

    def __repr__(self) -> str:
        state = f"at {self.now().isoformat()}" if self.active else "stopped"
        return f"VirtualClock({state}, turns={self.turns})"


def _wall_clock_of(frozen: Any) -> _clock.WallClock:
    """The SDK's wall clock under ``frozen`` (freezegun's factory of naive UTC time), so what the
    SDK stamps and what the app reads are the same microsecond. A closure, not a method reading
    ``self._frozen``: a thread still stamping as the clock stops reads its last time, not None."""

    def wall_ns() -> int:
        return (frozen() - _EPOCH) // _MICROSECOND * 1000

    return wall_ns
