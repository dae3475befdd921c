"""``Asset``: a live view of any OpenFactory asset, read from ksqlDB and kept current from Kafka.

``Asset`` owns its collaborators and delegates to them: ``AssetState`` (``_state.py``: the
attributes, their lock, ksqlDB) and ``AssetFeeds`` (``_feeds.py``: the named subscriptions).
What stays here is the public API and the write path, which is the hot path.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from openfactory.assets._feeds import AssetFeeds, MessageCallback, decode_attribute
from openfactory.assets._state import AssetState
from openfactory.assets.attribute import AssetAttribute, command_record, validate_id
from openfactory.assets.references import (
    REFERENCES_ABOVE,
    REFERENCES_BELOW,
    referenced_uuids,
    with_reference,
)
from openfactory.backends import open_transport
from openfactory.commands import CommandEnvelope
from openfactory.errors import CommandError, ConfigurationError
from openfactory.transport import KSQLDB, Record, Transport
from openfactory.transport.wire import ASSETS_STREAM, asset_record

# Records published by this asset whose echo from the broker has not come back yet (a few
# hundred bytes each); past this many they are all forgotten, and an echo that comes later
# is decoded like any record. Bursts of tens of thousands of updates stay within it.
_ECHO_MEMORY = 65536


class Asset:
    """A live view of asset ``asset_uuid``: attributes read by name, assignment publishes.

    State is loaded from ksqlDB and kept current from the broker; an unknown attribute
    reads as ``UNAVAILABLE``. ``transport=`` (keyword-only) runs the asset on that transport;
    otherwise ``openfactory.backends`` chooses one. Raises ``ConfigurationError`` for a bad
    UUID or broker setup.

    The assignment rule: assigning a *public* name publishes it (an ``AssetAttribute`` as given,
    any other value as the new value of an existing attribute, keeping its type and tag). Names
    that start with ``_`` never publish: write private state with plain ``self._x = ...``. Nor
    do names the class defines (properties; declared attributes publish through their
    descriptor), public names set before the asset is built (the constructor's ``asset_uuid``,
    ``ksql``, ..., or a subclass's ``logger`` set before ``super().__init__``), and public names
    that are no attribute of the asset: those are plain Python attributes.
    """

    def __init__(
        self,
        asset_uuid: str,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None = None,
        asset_router_url: str | None = None,
        test_mode: bool = False,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.asset_uuid = validate_id("asset_uuid", asset_uuid)
        self.ksql = ksqlClient
        self.bootstrap_servers = bootstrap_servers
        self.asset_router_url = asset_router_url
        self.test_mode = test_mode
        self._closed = False
        self._echoes: dict[bytes, AssetAttribute] = {}  # see _publish_attribute
        transport = open_transport(ksqlClient, bootstrap_servers, test_mode, transport)
        self._transport = transport
        try:
            self._assets_topic = transport.topic_for(ASSETS_STREAM)
        except BaseException:
            transport.close()  # a half-built asset must not keep a producer retrying forever
            raise
        self._feeds = AssetFeeds(transport, self._assets_topic, self.asset_uuid)
        # Built: from here on public names publish (see __setattr__).
        self._state = AssetState(self.asset_uuid, transport)
        try:
            # Subscribe before loading so no update can fall between the query and the feed.
            self._feeds.follow("_state", self._on_record)
            self._state.load()
        except BaseException:
            self.close()
            raise

    # reading and writing attributes ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = self._state.get(name)
        if attribute is not None and attribute.type == "Method":
            return self._method_caller(name)
        return attribute if attribute is not None else AssetAttribute.unavailable(name)

    def __setattr__(self, name: str, value: Any) -> None:
        # The rule in the class docstring; "_state" is set once the asset is built.
        if name.startswith("_") or "_state" not in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)  # declared attributes publish from here
        elif isinstance(value, AssetAttribute):
            self.add_attribute(name, value)
        else:
            current = self._state.get(name)
            if current is None:
                object.__setattr__(self, name, value)
            else:
                self._publish_attribute(AssetAttribute(value, current.type, current.tag, id=name))

    def add_attribute(self, attribute_id: str, asset_attribute: AssetAttribute) -> None:
        """Publish ``asset_attribute`` as attribute ``attribute_id`` of this asset.

        Raises ``ConfigurationError`` for a bad id or a value that is not an ``AssetAttribute``.
        """
        validate_id("attribute_id", attribute_id)
        if not isinstance(asset_attribute, AssetAttribute):
            raise ConfigurationError(
                f"add_attribute({attribute_id!r}, ...) needs an AssetAttribute, "
                f"got {type(asset_attribute).__name__}"
            )
        # A copy: the caller keeps its object, the state keeps what was published.
        published = AssetAttribute(
            asset_attribute.value,
            asset_attribute.type,
            asset_attribute.tag,
            asset_attribute.timestamp,
            attribute_id,
        )
        self._publish_attribute(published)

    def attributes(self) -> list[str]:
        """Ids of this asset's attributes, methods excluded."""
        return [name for name, attr in self._state.snapshot().items() if attr.type != "Method"]

    def samples(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Samples`` attribute."""
        return self._state.of_type("Samples")

    def events(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Events`` attribute."""
        return self._state.of_type("Events")

    def conditions(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Condition`` attribute."""
        return self._state.of_type("Condition")

    def methods(self) -> dict[str, Any]:
        """Method name -> its contract (``{"description": ..., "arguments": [...]}``)."""
        found: dict[str, Any] = {}
        for name, attr in self._state.snapshot().items():
            if attr.type == "Method":
                found[name] = json.loads(attr.value) if isinstance(attr.value, str) else attr.value
        return found

    # for attribute descriptors on subclasses (openfactory.apps.declared) ------------------
    def _current(self, attribute_id: str) -> AssetAttribute | None:
        """The current value of ``attribute_id``, ``None`` if the asset has no such attribute."""
        return self._state.get(attribute_id)

    def _publish_attribute(self, attribute: AssetAttribute) -> None:
        """Publish ``attribute`` (``id`` already checked); it becomes the current value."""
        attribute_id = attribute.id or ""
        payload = asset_record(
            attribute_id, attribute.value, attribute.tag, attribute.type, attribute.timestamp
        )
        # The write path loops back: the broker echoes the record to this asset's own feed
        # (_on_record). Remembered by its bytes (before publishing, as the in-memory broker
        # echoes at once), the echo is recognised instead of decoded again. Single dict
        # operations need no lock; a race costs at most one echo decoded the slow way.
        echoes = self._echoes
        if len(echoes) >= _ECHO_MEMORY:
            echoes.clear()  # echoes that never came (subscription stopped, or lost)
        echoes[payload] = attribute
        try:
            self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        except BaseException:
            echoes.pop(payload, None)
            raise
        self._state.store(attribute_id, attribute)

    def _on_record(self, record: Record) -> None:
        echo = self._echoes.pop(record.value, None) if record.value is not None else None
        if echo is not None:
            # Stored again: another writer's record may have come in between, and the topic's
            # order is the truth.
            self._state.store(echo.id or "", echo)
            self._on_attribute(echo)
            return
        attribute = decode_attribute(record)
        if attribute is None:
            return
        self._state.store_received(attribute)
        self._on_attribute(attribute)

    def _on_attribute(self, attribute: AssetAttribute) -> None:
        """Hook for subclasses: a record of this asset arrived from the broker."""

    # subscriptions: on_message(asset_uuid, record as a dict) -----------------------------
    def subscribe_to_attribute(self, attribute_id: str, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for each new value of ``attribute_id``."""
        self._feeds.open_attribute(validate_id("attribute_id", attribute_id), on_message)

    def stop_attribute_subscription(self, attribute_id: str | None = None) -> None:
        """Stop the subscription to ``attribute_id`` (all attribute subscriptions if ``None``)."""
        self._feeds.stop_attributes(attribute_id)

    def subscribe_to_messages(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every record this asset publishes."""
        self._feeds.open("messages", on_message)

    def stop_messages_subscription(self) -> None:
        """Stop ``subscribe_to_messages``."""
        self._feeds.stop("messages")

    def subscribe_to_samples(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Samples`` value."""
        self._feeds.open("samples", on_message)

    def stop_samples_subscription(self) -> None:
        """Stop ``subscribe_to_samples``."""
        self._feeds.stop("samples")

    def subscribe_to_events(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Events`` value."""
        self._feeds.open("events", on_message)

    def stop_events_subscription(self) -> None:
        """Stop ``subscribe_to_events``."""
        self._feeds.stop("events")

    def subscribe_to_conditions(self, on_message: MessageCallback) -> None:
        """Call ``on_message(asset_uuid, record)`` for every new ``Condition`` value."""
        self._feeds.open("conditions", on_message)

    def stop_conditions_subscription(self) -> None:
        """Stop ``subscribe_to_conditions``."""
        self._feeds.stop("conditions")

    # references ---------------------------------------------------------------------------
    def add_reference_above(self, above_asset_reference: str) -> None:
        """Record that asset ``above_asset_reference`` sits above this one."""
        current = self._state.get(REFERENCES_ABOVE)
        self.add_attribute(REFERENCES_ABOVE, with_reference(current, above_asset_reference))

    def add_reference_below(self, below_asset_reference: str) -> None:
        """Record that asset ``below_asset_reference`` sits below this one."""
        current = self._state.get(REFERENCES_BELOW)
        self.add_attribute(REFERENCES_BELOW, with_reference(current, below_asset_reference))

    def references_above_uuid(self) -> list[str]:
        """UUIDs of the assets above this one."""
        return referenced_uuids(self._state.get(REFERENCES_ABOVE))

    def references_below_uuid(self) -> list[str]:
        """UUIDs of the assets below this one."""
        return referenced_uuids(self._state.get(REFERENCES_BELOW))

    def references_above(self) -> list[Asset]:
        """``Asset`` views of the assets above this one."""
        return [self._view(uuid) for uuid in self.references_above_uuid()]

    def references_below(self) -> list[Asset]:
        """``Asset`` views of the assets below this one."""
        return [self._view(uuid) for uuid in self.references_below_uuid()]

    def _view(self, asset_uuid: str) -> Asset:
        return Asset(
            asset_uuid, self.ksql, self.bootstrap_servers, self.asset_router_url, self.test_mode
        )

    # commands ---------------------------------------------------------------------------
    def method(self, method: str, sender_uuid: str, args: dict[str, Any] | None = None) -> str:
        """Ask this asset to run ``method`` with ``args``; returns the command's correlation id.

        Raises ``CommandError`` when the asset has no such method or an argument cannot be
        sent as a string.
        """
        validate_id("method", method)
        known = self.methods()
        if method not in known:
            raise CommandError(
                method,
                f"asset {self.asset_uuid!r} has no such method "
                f"(known: {', '.join(sorted(known)) or 'none'})",
            )
        try:
            envelope = CommandEnvelope.new(sender_uuid, args or {})
        except (TypeError, ValueError) as err:
            raise CommandError(method, str(err)) from err
        payload = command_record(method, envelope.to_json())
        self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        return str(envelope.header.correlation_id)

    def _method_caller(self, name: str) -> Callable[..., str]:
        def call(*, sender_uuid: str, **args: Any) -> str:
            return self.method(name, sender_uuid, args)

        call.__name__ = name
        return call

    # waiting and closing ----------------------------------------------------------------
    def wait_until(
        self,
        attribute_id: str,
        value: Any,
        comparison: Callable[[Any, Any], bool] = operator.eq,
        timeout: float = 30,
        use_ksqlDB: bool = False,
    ) -> bool:
        """Wait until ``comparison(attribute value, value)`` holds; False after ``timeout`` s.

        ``use_ksqlDB=True`` polls ksqlDB instead of this view's state.
        """
        return self._state.wait_until(attribute_id, value, comparison, timeout, use_ksqlDB)

    def close(self) -> None:
        """Stop every subscription and release the transport (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._feeds.stop_all()
        self._transport.close()

    @property
    def transport(self) -> Transport:
        """The transport this asset publishes and subscribes through."""
        return self._transport

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.asset_uuid!r})"
