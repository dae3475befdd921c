"""The clocks the SDK reads: every SDK read of time goes through this module.

Two clocks, two rules:

- **Wall clock** (``time_ns``, ``now``): stamps what the SDK produces, i.e. attribute and command
  timestamps, in-memory broker record times, the ``updated_at`` of the deregistration record.
  It follows a virtual clock: ``VirtualClock`` installs its source with ``use_wall_clock`` for
  the duration of its ``with`` block, so what the recorder shows matches the time the app under
  test reads.
- **Monotonic clock and sleep** (``monotonic``, ``sleep``): measure timeouts and pace waits
  (flush, ``wait_until``, topic creation, retry backoff), on any thread. They are always real
  and cannot be swapped: a test's virtual time must never make the SDK time out early, wait
  forever on a frozen deadline, or count its own pauses as turns of the app's loop.
  ``threading.Event.wait``/``Condition.wait`` time out on the real clock already (lock timeouts
  in C), so a wait needs this module only for its deadline.

Why the real functions are held in ``_REAL`` and wrapped: while it runs, freezegun rebinds every
module-level name bound to ``time.time``/``time.monotonic``/``datetime.datetime``/... in every
module it does not ignore, and swaps those names on the ``time`` and ``datetime`` modules too;
``VirtualClock`` replaces ``time.sleep``. So ``time.monotonic()`` looked up at call time, or a
module-level alias of it, would read fake time. Captured here at import, as fields of a tuple
(freezegun looks only at module attributes), they stay the real ones. This module imports only
the standard library, so any package of the SDK (the leaf transport included) may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

WallClock = Callable[[], int]
"""A wall clock source: nanoseconds since the Unix epoch, UTC."""


class _RealClocks(NamedTuple):
    time_ns: WallClock
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]


def _capture() -> _RealClocks:
    real = _RealClocks(time.time_ns, time.monotonic, time.sleep)
    for name, function in zip(real._fields, real, strict=True):
        module = getattr(function, "__module__", None) or "time"
        if module != "time":
            raise ImportError(
                f"openfactory was first imported while time.{name} was replaced by {module} "
                "(freezegun or a virtual clock running): import openfactory before freezing time"
            )
    return real


_REAL = _capture()
# A one-item list, not a module-level name: freezegun would rebind a name bound to time.time_ns.
_wall: list[WallClock] = [_REAL.time_ns]
# An instance, not the class: freezegun swaps the datetime class, never existing instances.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_ns() -> int:
    """Wall clock: nanoseconds since the Unix epoch (virtual inside a ``VirtualClock``)."""
    return _wall[0]()


def now() -> datetime:
    """Wall clock as an aware UTC datetime, to the microsecond (virtual in a ``VirtualClock``)."""
    return _EPOCH + timedelta(microseconds=_wall[0]() // 1000)


def monotonic() -> float:
    """Real monotonic seconds, for deadlines; no virtual clock or freezegun reaches it."""
    return _REAL.monotonic()


def sleep(seconds: float) -> None:
    """Really pause the calling thread (``time.sleep``, out of reach of a virtual clock).

    Raises ``ValueError`` for a negative ``seconds``, as ``time.sleep`` does.
    """
    _REAL.sleep(seconds)


def set_wall_clock(source: WallClock | None) -> WallClock:
    """Make ``source`` the wall clock (``None``: the real one); returns the previous source.

    Prefer ``use_wall_clock``, which restores the previous source. Raises ``TypeError`` if
    ``source`` is not callable.
    """
    if source is not None and not callable(source):
        raise TypeError(
            f"a wall clock source must be a callable returning epoch nanoseconds, got {source!r}"
        )
    previous = _wall[0]
    _wall[0] = _REAL.time_ns if source is None else source
    return previous


@contextmanager
def use_wall_clock(source: WallClock) -> Iterator[None]:
    """Read the wall clock from ``source`` inside the ``with`` block, then restore the previous one.

    Raises ``TypeError`` if ``source`` is not callable.
    """
    previous = set_wall_clock(source)
    try:
        yield
    finally:
        set_wall_clock(previous)
