"""The OpenFactory wire contract: record layout, types, timestamps, stream and table names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

ASSETS_STREAM: Final = "ASSETS_STREAM"
ASSETS_TABLE: Final = "assets"
ASSETS_TYPE_TABLE: Final = "assets_type"
ASSETS_AVAIL_TABLE: Final = "assets_avail"
DOCKER_SERVICES_TABLE: Final = "docker_services"
UNS_MAP_STREAM: Final = "asset_to_uns_map_raw"

ATTRIBUTE_TYPES: Final = frozenset(
    {"Samples", "Condition", "Events", "Method", "OpenFactory", "UNAVAILABLE"}
)

COMMAND_SUFFIX: Final = "_CMD"
COMMAND_TAG: Final = "Method.Command"
METHOD_TAG: Final = "Method"


def format_timestamp(moment: datetime | None = None) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``: ``2026-05-04T12:34:56.789Z``.

    ``moment`` defaults to now; a naive datetime is taken as UTC.
    """
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse a wire timestamp back into an aware UTC datetime; raises ``ValueError``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def encode_json(payload: Any) -> bytes:
    """Encode a record value exactly as OpenFactory producers do (``json.dumps``, UTF-8)."""
    return json.dumps(payload).encode("utf-8")


def asset_record(attr_id: str, value: Any, tag: str, type_: str, timestamp: str) -> bytes:
    """Encode the value of an asset record (key: the asset UUID) on the assets stream topic."""
    return encode_json(
        {
            "ID": attr_id,
            "VALUE": value,
            "TAG": tag,
            "TYPE": type_,
            "attributes": {"timestamp": timestamp},
        }
    )


def ksql_string(value: str) -> str:
    """Quote ``value`` as a ksqlDB string literal, doubling embedded single quotes."""
    if not isinstance(value, str):
        raise TypeError(f"ksqlDB string literal must be built from str, got {type(value).__name__}")
    return "'" + value.replace("'", "''") + "'"
