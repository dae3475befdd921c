"""The OpenFactory wire contract: record layout, types, timestamps, stream and table names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Final

from openfactory import _clock

ASSETS_STREAM: Final = "ASSETS_STREAM"
ASSETS_TABLE: Final = "assets"
ASSETS_TYPE_TABLE: Final = "assets_type"
ASSETS_AVAIL_TABLE: Final = "assets_avail"
DOCKER_SERVICES_TABLE: Final = "docker_services"
ENRICHED_ASSETS_STREAM: Final = "enriched_assets_stream"
UNS_MAP_RAW_TABLE: Final = "asset_to_uns_map_raw"
UNS_MAP_TABLE: Final = "asset_to_uns_map"
ASSETS_UNS_STREAM: Final = "assets_stream_uns"
ASSETS_UNS_TABLE: Final = "assets_uns"
METRICS_TARGETS_TABLE: Final = "METRICS_TARGETS_SOURCE"
# The former name of UNS_MAP_RAW_TABLE (the platform's source is a TABLE), kept for its importers.
UNS_MAP_STREAM: Final = UNS_MAP_RAW_TABLE

ATTRIBUTE_TYPES: Final = frozenset(
    {"Samples", "Condition", "Events", "Method", "OpenFactory", "UNAVAILABLE"}
)

COMMAND_SUFFIX: Final = "_CMD"
COMMAND_TAG: Final = "Method.Command"
METHOD_TAG: Final = "Method"


def format_timestamp(moment: datetime | None = None) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``: ``2026-05-04T12:34:56.789Z``.

    ``moment`` defaults to now on the SDK's wall clock (``openfactory._clock``: virtual inside a
    ``VirtualClock``); a naive datetime is taken as UTC. Milliseconds are
    truncated, as the platform's producers do.
    """
    if moment is None:
        return _now()[2]
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return _stamp((utc - _EPOCH) // _ONE_SECOND, utc.microsecond // 1000)


_EPOCH = datetime(1970, 1, 1)
_ONE_SECOND = timedelta(seconds=1)
_second_prefix: tuple[int, str] = (0, "1970-01-01T00:00:00.")
# The millisecond last stamped: [start, end) in epoch ns, the timestamp, and it as a JSON string.
_last_stamp: tuple[int, int, str, str] = (0, 0, "", '""')


def _now() -> tuple[int, int, str, str]:
    """``_last_stamp`` for now on the SDK's wall clock."""
    # The nanosecond clock is exact and cheaper than a datetime; a burst of updates stamps
    # many records in the same millisecond: format each millisecond once (two comparisons
    # tell whether now is still in it: cheaper than dividing a 64-bit int).
    global _last_stamp
    now = _clock.time_ns()
    last = _last_stamp
    if not last[0] <= now < last[1]:
        millis = now // 1_000_000
        stamp = _stamp(*divmod(millis, 1000))
        start = millis * 1_000_000
        last = _last_stamp = (start, start + 1_000_000, stamp, _json_string(stamp))
    return last


def _stamp(second: int, millisecond: int) -> str:
    # Every published attribute is stamped: format the date and time once per second.
    global _second_prefix
    cached_second, prefix = _second_prefix
    if second != cached_second:
        prefix = (_EPOCH + timedelta(seconds=second)).isoformat() + "."
        _second_prefix = (second, prefix)
    return f"{prefix}{millisecond:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a wire timestamp back into an aware UTC datetime; raises ``ValueError``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def encode_json(payload: Any) -> bytes:
    """Encode a record value exactly as OpenFactory producers do (``json.dumps``, UTF-8)."""
    return json.dumps(payload).encode("utf-8")


def asset_record(attr_id: str, value: Any, tag: str, type_: str, timestamp: str) -> bytes:
    """Encode the value of an asset record (key: the asset UUID) on the assets stream topic.

    Byte for byte what ``encode_json`` gives for ``{"ID", "VALUE", "TAG", "TYPE",
    "attributes": {"timestamp"}}``, built faster: every published attribute goes through here.
    """
    frame = _frames.get((attr_id, tag, type_))
    if frame is None:
        if not (type(attr_id) is type(tag) is type(type_) is str):
            return _asset_record_by_json(attr_id, value, tag, type_, timestamp)
        frame = _frame(attr_id, tag, type_)
    # An exact int formats as json.dumps writes it (int.__repr__), without a call.
    value_json = f"{value}" if value.__class__ is int else _scalar_json(value)
    if value_json is None or type(timestamp) is not str:
        return _asset_record_by_json(attr_id, value, tag, type_, timestamp)
    head, middle = frame
    last = _last_stamp
    stamp_json = last[3] if timestamp is last[2] else _json_string(timestamp)
    return f"{head}{value_json}{middle}{stamp_json}}}}}".encode()


def stamped_record(attr_id: str, value: Any, tag: str, type_: str) -> tuple[str, bytes]:
    """``(timestamp, record)``: ``format_timestamp()`` and ``asset_record(attr_id, value, tag,
    type_, timestamp)`` of it, in one call (every attribute update is stamped now)."""
    _, _, timestamp, stamp_json = _now()
    frame = _frames.get((attr_id, tag, type_))
    if frame is not None:
        value_json = f"{value}" if value.__class__ is int else _scalar_json(value)
        if value_json is not None:
            head, middle = frame
            return timestamp, f"{head}{value_json}{middle}{stamp_json}}}}}".encode()
    return timestamp, asset_record(attr_id, value, tag, type_, timestamp)


def _asset_record_by_json(attr_id: Any, value: Any, tag: Any, type_: Any, timestamp: Any) -> bytes:
    return encode_json(
        {
            "ID": attr_id,
            "VALUE": value,
            "TAG": tag,
            "TYPE": type_,
            "attributes": {"timestamp": timestamp},
        }
    )


# (id, tag, type) -> the JSON around the value and the timestamp, as json.dumps lays it out.
_frames: dict[tuple[str, str, str], tuple[str, str]] = {}
_FRAMES_KEPT = 4096
_json_string = encode_basestring_ascii  # what json.dumps uses with ensure_ascii=True


def _frame(attr_id: str, tag: str, type_: str) -> tuple[str, str]:
    if len(_frames) >= _FRAMES_KEPT:
        _frames.clear()
    frame = (
        f'{{"ID": {_json_string(attr_id)}, "VALUE": ',
        f', "TAG": {_json_string(tag)}, "TYPE": {_json_string(type_)}, '
        '"attributes": {"timestamp": ',
    )
    _frames[(attr_id, tag, type_)] = frame
    return frame


def _scalar_json(value: Any) -> str | None:
    """``json.dumps(value)`` for the common exact scalar types; ``None`` for anything else."""
    kind = type(value)
    if kind is str:
        return _json_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        # json.dumps writes NaN and the infinities its own way: leave those to it.
        return float.__repr__(value) if value - value == 0.0 else None
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return None


def ksql_string(value: str) -> str:
    """Quote ``value`` as a ksqlDB string literal, doubling embedded single quotes."""
    if not isinstance(value, str):
        raise TypeError(f"ksqlDB string literal must be built from str, got {type(value).__name__}")
    return "'" + value.replace("'", "''") + "'"


def attribute_id_of(value: bytes | None) -> str | None:
    """The ``ID`` field of an encoded asset record, if it has one (``None`` otherwise: a
    tombstone, a value that is not JSON, or another layout). Used in error messages."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    return decoded.get("ID") if isinstance(decoded, dict) else None
