"""Reading a JSON record as ksqlDB does: field names matched case-insensitively, and each value
read into its column's ksqlDB type (the fake ksqlDB's materialization uses these)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from openfactory.transport import Record

Row = dict[str, Any]

# Built once: json.dumps with any non-default argument builds a new encoder on every call.
_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def as_string(value: Any) -> str | None:
    """A JSON value read into a ksqlDB STRING column: JSON text unless it already is a string."""
    if value is None or isinstance(value, str):
        return value
    return _compact_json(value)


def as_map(value: Any) -> dict[str, str | None] | None:
    """A JSON value read into a ksqlDB ``MAP<STRING, STRING>``; raises ``ValueError``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"a MAP needs a JSON object, got {value!r}")
    return {str(k): as_string(v) for k, v in value.items()}


def as_timestamp(value: Any) -> str | None:
    """A JSON value (epoch milliseconds or ISO 8601 text) read into a ksqlDB TIMESTAMP, as
    ksqlDB answers it: UTC, milliseconds, no zone. Raises ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"a TIMESTAMP needs epoch milliseconds or ISO 8601 text, got {value!r}")
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        try:
            moment = datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError) as err:
            raise ValueError(f"{value!r} ms is out of the TIMESTAMP range: {err}") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


READERS: dict[str, Callable[[Any], Any]] = {
    "STRING": as_string,
    "MAP<STRING, STRING>": as_map,
    "TIMESTAMP": as_timestamp,
}


def json_fields(record: Record) -> dict[str, Any] | None:
    """The record's JSON object with upper-cased field names (ksqlDB matches them so);
    ``None`` when the value is not a JSON object."""
    try:
        value = record.json()
    except ValueError:
        return None
    return upper_fields(value) if isinstance(value, dict) else None


def upper_fields(mapping: dict[Any, Any]) -> dict[str, Any]:
    """``mapping`` with upper-cased names (str keys)."""
    upper = {str(k).upper(): v for k, v in mapping.items()}
    if len(upper) == len(mapping):
        return upper  # no two names differ only by case: nothing to choose between
    # Exact upper-case names sort last, so they win over other spellings.
    items = sorted(mapping.items(), key=_spelled_upper)
    return {str(k).upper(): v for k, v in items}


def _spelled_upper(item: tuple[Any, Any]) -> bool:
    return str(item[0]) == str(item[0]).upper()


def read_state(fields: dict[str, Any], row: Row) -> None:
    """Fill VALUE, TYPE, TAG and TIMESTAMP of a state-table row from an asset record's fields:
    TIMESTAMP is ``attributes['timestamp']``, else ``'UNAVAILABLE'`` (as the platform's
    ``enriched_assets_stream`` computes it)."""
    row["VALUE"] = as_string(fields.get("VALUE"))
    row["TYPE"] = as_string(fields.get("TYPE"))
    row["TAG"] = as_string(fields.get("TAG"))
    stamps = fields.get("ATTRIBUTES")
    stamp = upper_fields(stamps).get("TIMESTAMP") if isinstance(stamps, dict) else None
    row["TIMESTAMP"] = "UNAVAILABLE" if stamp is None else as_string(stamp)
