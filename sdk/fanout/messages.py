"""The fan-out layer's message: an asset record as the platform's forwarders put it on NATS.

A forwarder consumes the assets topic and publishes each record of key ``K`` and attribute
``ID`` on subject ``K.ID``, its value without ``ID`` (the subject carries it) and with three
timestamps added to ``attributes`` (reference section 4.7). ``forwarded_message`` does that;
``record_from_message`` turns such a message back into the asset record the SDK expects, the
timestamps kept (subscribers see them) and ``ID`` put back first.

The subject uses the key exactly as published, case included (reference section 11, item 24).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Final

from openfactory.errors import ConfigurationError
from openfactory.transport import Record, format_timestamp, new_record, parse_timestamp

#: What a forwarder adds to a record's ``attributes``.
FORWARDER_TIMESTAMP: Final = "asset_forwarder_timestamp"
KAFKA_TIMESTAMP: Final = "kafka_timestamp"
KAFKA_TIMESTAMP_TYPE: Final = "kafka_timestamp_type"
#: The values of ``kafka_timestamp_type``: set by the producer, by the broker, or not known.
TIMESTAMP_TYPES: Final = ("producer", "broker", "unknown")

# A key that can name a NATS subject prefix: no whitespace, no wildcard, no token separator
# (with a dot, "a.b" + "c" and "a" + "b.c" would be one subject).
_SUBJECT_KEY = re.compile(r"[^\s.*>]+")


def check_subject_key(key: str) -> str:
    """``key`` if records of that key can be told apart on NATS, else ``ConfigurationError``.

    A NATS subject splits on ``.`` and reserves ``*`` and ``>``: an asset UUID holding one of
    them, or whitespace, cannot be followed through the fan-out layer.
    """
    if not isinstance(key, str) or _SUBJECT_KEY.fullmatch(key) is None:
        raise ConfigurationError(
            f"asset {key!r} cannot be followed through the fan-out layer: its NATS subjects "
            "'<asset uuid>.<attribute id>' need a UUID without '.', '*', '>' or whitespace; "
            "follow it from Kafka directly (no asset_router_url / ASSET_ROUTER_URL)"
        )
    return key


def asset_subjects(key: str) -> str:
    """The subject pattern of every attribute of asset ``key``: ``<key>.>``.

    ``>`` rather than the platform's ``*``: an attribute id with a dot is still delivered.
    Raises ``ConfigurationError`` (see ``check_subject_key``).
    """
    return check_subject_key(key) + ".>"


def forwarded_message(
    record: Record,
    forwarded_at: str | None = None,
    timestamp_type: str = "producer",
) -> tuple[str, bytes] | None:
    """``(subject, value)`` a forwarder publishes for ``record``; ``None`` for a record it
    skips (a tombstone, no key, not an asset record).

    ``forwarded_at`` defaults to now; ``kafka_timestamp`` is the record's timestamp, of kind
    ``timestamp_type`` (one of ``TIMESTAMP_TYPES``).
    """
    if record.value is None or record.key is None:
        return None
    try:
        value = json.loads(record.value)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("ID"), str) or not value["ID"]:
        return None
    attribute_id = value.pop("ID")
    attributes = value.get("attributes")
    attributes = dict(attributes) if isinstance(attributes, dict) else {}
    attributes[FORWARDER_TIMESTAMP] = forwarded_at or format_timestamp()
    attributes[KAFKA_TIMESTAMP] = _stamp_of(record.timestamp_ms)
    attributes[KAFKA_TIMESTAMP_TYPE] = (
        timestamp_type if timestamp_type in TIMESTAMP_TYPES else "unknown"
    )
    value["attributes"] = attributes
    return f"{record.key}.{attribute_id}", json.dumps(value).encode("utf-8")


def record_from_message(topic: str, key: str, subject: str, data: bytes) -> Record | None:
    """The asset record of key ``key`` on ``topic`` that a message on ``subject`` carries:
    ``{"ID": <subject after "key.">, **value}``. ``None`` when ``subject`` is not one of
    ``key``'s or ``data`` is not a JSON object (the fan-out layer delivers only asset records).

    The record's offset is unknown (-1); its timestamp is the message's ``kafka_timestamp``.
    """
    prefix = key + "."
    if not subject.startswith(prefix) or len(subject) == len(prefix):
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    record: dict[str, Any] = {"ID": subject[len(prefix) :]}
    record.update((k, v) for k, v in value.items() if k != "ID")
    attributes = value.get("attributes")
    kafka_time = attributes.get(KAFKA_TIMESTAMP) if isinstance(attributes, dict) else None
    encoded = json.dumps(record).encode("utf-8")
    return new_record(topic, key, encoded, 0, -1, _millis_of(kafka_time))


def _stamp_of(timestamp_ms: int) -> str:
    if timestamp_ms <= 0:
        return format_timestamp()
    second, millis = divmod(timestamp_ms, 1000)
    return format_timestamp(datetime.fromtimestamp(second, UTC).replace(microsecond=millis * 1000))


def _millis_of(stamp: object) -> int:
    """A message's ``kafka_timestamp`` in epoch milliseconds: wire text or a number; else 0."""
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        return int(stamp)
    if isinstance(stamp, str):
        try:
            return int(parse_timestamp(stamp).timestamp() * 1000)
        except ValueError:
            return 0
    return 0
