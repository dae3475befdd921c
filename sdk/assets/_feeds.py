"""``AssetFeeds``: the named subscriptions of one asset view, and how their records are decoded
and filtered before a callback sees them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError
from openfactory.transport import Record, RecordCallback, Subscription, Transport

logger = logging.getLogger("openfactory.assets")

MessageCallback = Callable[[str, dict[str, Any]], None]
Wanted = Callable[[dict[str, Any]], bool]

_ATTRIBUTE_PREFIX = "attribute:"

# The feeds an asset offers by kind (``subscribe_to_<kind>``), and the records each lets through.
FEEDS: dict[str, Wanted] = {
    "messages": lambda value: True,
    "samples": lambda value: value.get("TYPE") == "Samples",
    "events": lambda value: value.get("TYPE") == "Events",
    "conditions": lambda value: value.get("TYPE") == "Condition",
}


def decode_asset_record(record: Record) -> dict[str, Any] | None:
    """The JSON object of an asset record, or ``None`` for a tombstone or anything malformed."""
    try:
        value = record.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("ID"), str) else None


def decode_attribute(record: Record) -> AssetAttribute | None:
    """The attribute an asset record carries, or ``None``: for a tombstone or a record that is
    not an asset record, and (logged) for one whose attribute is malformed."""
    value = decode_asset_record(record)
    if value is None:
        return None
    try:
        return AssetAttribute(
            value.get("VALUE"),
            value.get("TYPE", "UNAVAILABLE"),
            value.get("TAG", "UNAVAILABLE"),
            (value.get("attributes") or {}).get("timestamp", ""),
            value["ID"],
        )
    except (ConfigurationError, KeyError, AttributeError) as err:
        logger.warning("asset %s: ignoring malformed record %r (%s)", record.key, record, err)
        return None


class AssetFeeds:
    """Subscriptions to the records of asset ``asset_uuid`` on ``topic``, one per name.

    Opening a name that is open replaces it. Callbacks get ``(asset_uuid, record as a dict)``.
    """

    def __init__(self, transport: Transport, topic: str, asset_uuid: str) -> None:
        self._transport = transport
        self._topic = topic
        self._asset_uuid = asset_uuid
        self._open: dict[str, Subscription] = {}

    def follow(self, name: str, on_record: RecordCallback) -> None:
        """Call ``on_record(record)`` with every record of the asset, undecoded (name ``name``)."""
        self.stop(name)
        self._open[name] = self._transport.subscribe(self._topic, self._asset_uuid, on_record)

    def open(self, kind: str, on_message: MessageCallback) -> None:
        """Open the feed ``kind`` (a key of ``FEEDS``) to ``on_message``."""
        self._open_filtered(kind, FEEDS[kind], on_message)

    def open_attribute(self, attribute_id: str, on_message: MessageCallback) -> None:
        """Call ``on_message`` for each new value of attribute ``attribute_id``."""
        self._open_filtered(
            _ATTRIBUTE_PREFIX + attribute_id, lambda v: v.get("ID") == attribute_id, on_message
        )

    def stop(self, name: str) -> None:
        """Stop the feed ``name`` if it is open."""
        subscription = self._open.pop(name, None)
        if subscription is not None:
            subscription.stop()

    def stop_attributes(self, attribute_id: str | None = None) -> None:
        """Stop the feed of ``attribute_id`` (of every attribute if ``None``)."""
        for name in list(self._open):
            if name.startswith(_ATTRIBUTE_PREFIX) and attribute_id in (
                None,
                name[len(_ATTRIBUTE_PREFIX) :],
            ):
                self.stop(name)

    def stop_all(self) -> None:
        """Stop every feed."""
        for name in list(self._open):
            self.stop(name)

    def _open_filtered(self, name: str, wanted: Wanted, on_message: MessageCallback) -> None:
        asset_uuid = self._asset_uuid

        def handler(record: Record) -> None:
            value = decode_asset_record(record)
            if value is not None and wanted(value):
                on_message(asset_uuid, value)

        self.follow(name, handler)
