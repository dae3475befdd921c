"""``AssetFeeds``: the named subscriptions of one asset view, and how their records are decoded
and filtered before a callback sees them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from openfactory.assets.attribute import AssetAttribute
from openfactory.errors import ConfigurationError, OFAException
from openfactory.transport import Record, RecordCallback, Subscription, Transport

logger = logging.getLogger("openfactory.assets")

Wanted = Callable[[dict[str, Any]], bool]

_ATTRIBUTE_PREFIX = "attribute:"

# The feeds an asset offers by kind (``subscribe_to_<kind>``), and the records each lets through.
FEEDS: dict[str, Wanted] = {
    "messages": lambda value: True,
    "samples": lambda value: value.get("TYPE") == "Samples",
    "events": lambda value: value.get("TYPE") == "Events",
    "conditions": lambda value: value.get("TYPE") == "Condition",
}


def _fold(key: object) -> object:
    return key.casefold() if isinstance(key, str) else key


class MessagePayload(dict[str, Any]):
    """An asset record's JSON object as a subscription callback gets it: a ``dict`` with the
    keys as published (``ID``, ``VALUE``, ``TAG``, ``TYPE``, ``attributes``; values as
    published), whose ``[]``, ``get`` and ``in`` also find a key written in another case
    (``payload["value"]``), as the platform's ``CaseInsensitiveDict`` payload does. A ``dict``
    so that ``json.dumps`` and ``isinstance(payload, dict)`` work as with the platform's 0.5.3.
    """

    __slots__ = ()

    def __missing__(self, key: Any) -> Any:
        folded = _fold(key)
        for name, value in self.items():
            if _fold(name) == folded:
                return value
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        """The value of ``key`` in any case, ``default`` if absent."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        folded = _fold(key)
        return any(_fold(name) == folded for name in self)


MessageCallback = Callable[[str, MessagePayload], None]
"""``on_message(msg_subject, msg_value)``: ``msg_subject`` is ``"<asset uuid>.<attribute id>"``
(the record's key as published), ``msg_value`` the record's ``MessagePayload``."""


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
            value=value.get("VALUE"),
            type=value.get("TYPE", "UNAVAILABLE"),
            tag=value.get("TAG", "UNAVAILABLE"),
            timestamp=(value.get("attributes") or {}).get("timestamp", ""),
            id=value["ID"],
        )
    except (ConfigurationError, KeyError, AttributeError, TypeError) as err:
        logger.warning("asset %s: ignoring malformed record %r (%s)", record.key, record, err)
        return None


class AssetFeeds:
    """Subscriptions to the records of one asset on ``topic``, one per name, on the key
    ``asset_uuid`` (``None``: no asset yet; the feeds open when ``retarget`` names one).

    ``follow`` replaces a feed of the same name; the public feeds (``open``,
    ``open_attribute``) refuse a second callback of a kind until it is stopped.
    """

    def __init__(self, transport: Transport, topic: str, asset_uuid: str | None) -> None:
        self._transport = transport
        self._topic = topic
        self._key = asset_uuid
        self._handlers: dict[str, RecordCallback] = {}
        self._open: dict[str, Subscription] = {}
        self._lock = threading.RLock()

    def follow(self, name: str, on_record: RecordCallback) -> None:
        """Call ``on_record(record)`` with every record of the asset, undecoded (name ``name``)."""
        with self._lock:
            self.stop(name)
            self._handlers[name] = on_record
            if self._key is not None:
                self._open[name] = self._transport.subscribe(self._topic, self._key, on_record)

    def open(self, kind: str, on_message: MessageCallback) -> None:
        """Open the feed ``kind`` (a key of ``FEEDS``) to ``on_message``; raises ``OFAException``
        when it is open."""
        self._open_filtered(kind, f"stop_{kind}_subscription()", FEEDS[kind], on_message)

    def open_attribute(self, attribute_id: str, on_message: MessageCallback) -> None:
        """Call ``on_message`` for each new value of attribute ``attribute_id``; raises
        ``OFAException`` when that attribute has a subscription."""
        self._open_filtered(
            _ATTRIBUTE_PREFIX + attribute_id,
            f"stop_attribute_subscription({attribute_id!r})",
            lambda v: v.get("ID") == attribute_id,
            on_message,
        )

    def retarget(self, asset_uuid: str | None) -> None:
        """Move every feed to the records of ``asset_uuid`` (``None``: pause them all)."""
        with self._lock:
            if asset_uuid == self._key:
                return
            self._key = asset_uuid
            for name in list(self._handlers):
                subscription = self._open.pop(name, None)
                if subscription is not None:
                    subscription.stop()
                if asset_uuid is not None:
                    self._open[name] = self._transport.subscribe(
                        self._topic, asset_uuid, self._handlers[name]
                    )

    def stop(self, name: str) -> None:
        """Stop the feed ``name`` if it is open."""
        with self._lock:
            self._handlers.pop(name, None)
            subscription = self._open.pop(name, None)
        if subscription is not None:
            subscription.stop()

    def stop_attributes(self, attribute_id: str | None = None) -> None:
        """Stop the feed of ``attribute_id`` (of every attribute if ``None``)."""
        with self._lock:
            names = list(self._handlers)
        for name in names:
            if name.startswith(_ATTRIBUTE_PREFIX) and attribute_id in (
                None,
                name[len(_ATTRIBUTE_PREFIX) :],
            ):
                self.stop(name)

    def stop_all(self) -> None:
        """Stop every feed."""
        with self._lock:
            names = list(self._handlers)
        for name in names:
            self.stop(name)

    def _open_filtered(
        self, name: str, stop_call: str, wanted: Wanted, on_message: MessageCallback
    ) -> None:
        if not callable(on_message):
            raise ConfigurationError(f"on_message must be callable, got {on_message!r}")

        def handler(record: Record) -> None:
            value = decode_asset_record(record)
            if value is not None and wanted(value):
                on_message(f"{record.key}.{value['ID']}", MessagePayload(value))

        with self._lock:
            if name in self._handlers:
                raise OFAException(
                    f"this asset view already has a subscription {name!r}: one callback per "
                    f"subscription; call {stop_call} before subscribing again"
                )
            self.follow(name, handler)
