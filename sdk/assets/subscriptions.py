"""The subscription half of ``Asset``: callbacks on the records an asset publishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openfactory.assets.attribute import validate_id
from openfactory.transport import Record, Subscription, Transport

MessageCallback = Callable[[str, dict[str, Any]], None]


def decode_asset_record(record: Record) -> dict[str, Any] | None:
    """The JSON object of an asset record, or ``None`` for a tombstone or anything malformed."""
    try:
        value = record.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("ID"), str) else None


class AssetSubscriptions:
    """``subscribe_to_*`` and ``stop_*_subscription``: ``on_message(asset_uuid, record)``."""

    asset_uuid: str
    _transport: Transport
    _assets_topic: str
    _subscriptions: dict[str, Subscription]

    def subscribe_to_attribute(self, attribute_id: str, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for each new value of ``attribute_id``."""
        validate_id("attribute_id", attribute_id)
        self._subscribe(
            f"attribute:{attribute_id}", lambda v: v.get("ID") == attribute_id, on_message
        )

    def stop_attribute_subscription(self, attribute_id: str | None = None) -> None:
        """Stop the subscription to ``attribute_id`` (all attribute subscriptions if ``None``)."""
        for name in list(self._subscriptions):
            if name.startswith("attribute:") and attribute_id in (None, name[10:]):
                self._unsubscribe(name)

    def subscribe_to_messages(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every record this asset publishes."""
        self._subscribe("messages", lambda v: True, on_message)

    def stop_messages_subscription(self) -> None:
        """Stop ``subscribe_to_messages``."""
        self._unsubscribe("messages")

    def subscribe_to_samples(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Samples`` value."""
        self._subscribe("samples", lambda v: v.get("TYPE") == "Samples", on_message)

    def stop_samples_subscription(self) -> None:
        """Stop ``subscribe_to_samples``."""
        self._unsubscribe("samples")

    def subscribe_to_events(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Events`` value."""
        self._subscribe("events", lambda v: v.get("TYPE") == "Events", on_message)

    def stop_events_subscription(self) -> None:
        """Stop ``subscribe_to_events``."""
        self._unsubscribe("events")

    def subscribe_to_conditions(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Condition`` value."""
        self._subscribe("conditions", lambda v: v.get("TYPE") == "Condition", on_message)

    def stop_conditions_subscription(self) -> None:
        """Stop ``subscribe_to_conditions``."""
        self._unsubscribe("conditions")

    def _subscribe(
        self, name: str, wanted: Callable[[dict[str, Any]], bool] | None, callback: Callable
    ) -> None:
        self._unsubscribe(name)
        if wanted is None:
            handler = callback
        else:

            def handler(record: Record) -> None:
                value = decode_asset_record(record)
                if value is not None and wanted(value):
                    callback(self.asset_uuid, value)

        self._subscriptions[name] = self._transport.subscribe(
            self._assets_topic, self.asset_uuid, handler
        )

    def _unsubscribe(self, name: str) -> None:
        subscription: Subscription | None = self._subscriptions.pop(name, None)
        if subscription is not None:
            subscription.stop()
