"""Attribute timestamps in the wire format (``2026-05-04T12:34:56.789Z``), under the platform
library's names."""

from __future__ import annotations

from datetime import datetime

from openfactory.transport.wire import format_timestamp

__all__ = ["current_timestamp", "openfactory_timestamp"]


def current_timestamp() -> str:
    """Now in UTC as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the SDK's wall clock: virtual inside a
    ``VirtualClock``)."""
    return format_timestamp()


def openfactory_timestamp(dt: datetime) -> str:
    """``dt`` as ``YYYY-MM-DDTHH:MM:SS.mmmZ``, its fields as they are: the time zone is not
    converted (as the platform's helper does; pass a UTC datetime, or use ``format_timestamp``
    from ``openfactory.transport`` to convert). Raises ``TypeError`` for anything but a
    ``datetime``."""
    if not isinstance(dt, datetime):
        raise TypeError(f"openfactory_timestamp needs a datetime, got {type(dt).__name__}: {dt!r}")
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"
