"""``Asset``: a live view of any OpenFactory asset, read from ksqlDB and kept current from Kafka."""

from __future__ import annotations

import json
import logging
import operator
import threading
import time
from collections.abc import Callable
from typing import Any

from openfactory.assets.attribute import AssetAttribute, validate_id
from openfactory.assets.references import AssetReferences
from openfactory.assets.state_queries import AssetStateQueries
from openfactory.assets.subscriptions import AssetSubscriptions, decode_asset_record
from openfactory.backends import open_transport
from openfactory.commands import CommandEnvelope
from openfactory.errors import CommandError, ConfigurationError
from openfactory.transport import KSQLDB, Record, Transport
from openfactory.transport.wire import (
    ASSETS_STREAM,
    COMMAND_SUFFIX,
    COMMAND_TAG,
    asset_record,
)

logger = logging.getLogger("openfactory.assets")

_POLL_INTERVAL = 0.05
# Records published by this asset whose echo from the broker has not come back yet (a few
# hundred bytes each); past this many they are all forgotten, and an echo that comes later
# is decoded like any record. Bursts of tens of thousands of updates stay within it.
_ECHO_MEMORY = 65536


class Asset(AssetSubscriptions, AssetReferences, AssetStateQueries):
    """A live view of asset ``asset_uuid``: attributes read by name, assignment publishes.

    State is loaded from ksqlDB and kept current from the broker; an unknown attribute
    reads as ``UNAVAILABLE``. ``transport=`` (keyword-only) runs the asset on that transport;
    otherwise ``openfactory.backends`` chooses one. Raises ``ConfigurationError`` for a bad
    UUID or broker setup.
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
        setattr_ = super().__setattr__
        setattr_("asset_uuid", validate_id("asset_uuid", asset_uuid))
        setattr_("ksql", ksqlClient)
        setattr_("bootstrap_servers", bootstrap_servers)
        setattr_("asset_router_url", asset_router_url)
        setattr_("test_mode", test_mode)
        setattr_("_state", {})
        # The lock guards multi-step work on _state (see _store); _changed is the same lock
        # as a condition for wait_until.
        setattr_("_lock", threading.RLock())
        setattr_("_changed", threading.Condition(self._lock))
        setattr_("_waiting", 0)  # threads in wait_until: nobody to notify most of the time
        setattr_("_subscriptions", {})
        setattr_("_echoes", {})
        setattr_("_closed", False)
        transport = open_transport(ksqlClient, bootstrap_servers, test_mode, transport)
        setattr_("_transport", transport)
        try:
            setattr_("_assets_topic", transport.topic_for(ASSETS_STREAM))
            # Subscribe before loading so no update can fall between the query and the feed.
            self._subscribe("_state", None, self._on_record)
            self._load_state()
        except BaseException:
            self.close()  # a half-built asset must not keep a producer retrying forever
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
        if name.startswith("_") or "_state" not in self.__dict__ or hasattr(type(self), name):
            object.__setattr__(self, name, value)  # declared attributes publish from here
        elif isinstance(value, AssetAttribute):
            self.add_attribute(name, value)
        elif name in self._state:
            current = self._state[name]
            self._publish_attribute(AssetAttribute(value, current.type, current.tag, id=name))
        else:
            super().__setattr__(name, value)

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

    def _publish_attribute(self, attribute: AssetAttribute) -> None:
        """Publish ``attribute`` (``id`` already checked); it becomes the current value."""
        attribute_id = attribute.id or ""
        payload = asset_record(
            attribute_id, attribute.value, attribute.tag, attribute.type, attribute.timestamp
        )
        # The broker echoes the record back to this asset's own subscription: remember it
        # (before publishing, as the in-memory broker echoes at once) so that the echo is
        # recognised by its bytes instead of decoded again. Single dict operations need no
        # lock; a race costs at most one echo decoded the slow way.
        echoes = self._echoes
        if len(echoes) >= _ECHO_MEMORY:
            echoes.clear()  # echoes that never came (subscription stopped, or lost)
        echoes[payload] = attribute
        try:
            self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        except BaseException:
            echoes.pop(payload, None)
            raise
        self._store(attribute_id, attribute)

    def attributes(self) -> list[str]:
        """Ids of this asset's attributes, methods excluded."""
        return [name for name, attr in self._snapshot().items() if attr.type != "Method"]

    def samples(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Samples`` attribute."""
        return self._of_type("Samples")

    def events(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Events`` attribute."""
        return self._of_type("Events")

    def conditions(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ...}]`` for every ``Condition`` attribute."""
        return self._of_type("Condition")

    def methods(self) -> dict[str, Any]:
        """Method name -> its contract (``{"description": ..., "arguments": [...]}``)."""
        found: dict[str, Any] = {}
        for name, attr in self._snapshot().items():
            if attr.type == "Method":
                found[name] = json.loads(attr.value) if isinstance(attr.value, str) else attr.value
        return found

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
        command = AssetAttribute(envelope.to_json(), "OpenFactory", COMMAND_TAG)
        payload = asset_record(
            method + COMMAND_SUFFIX, command.value, command.tag, command.type, command.timestamp
        )
        self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        return str(envelope.header.correlation_id)

    def _method_caller(self, name: str) -> Callable[..., str]:
        def call(*, sender_uuid: str, **args: Any) -> str:
            return self.method(name, sender_uuid, args)

        call.__name__ = name
        return call

    # waiting ----------------------------------------------------------------------------
    def wait_until(
        self,
        attribute_id: str,
        value: Any,
        comparison: Callable[[Any, Any], bool] = operator.eq,
        timeout: float = 30,
        use_ksqlDB: bool = False,
    ) -> bool:
        """Wait until ``comparison(attribute value, value)`` holds; False after ``timeout`` s."""
        deadline = time.monotonic() + timeout

        def current() -> Any:
            if use_ksqlDB:
                return self._query_attribute(attribute_id).value
            return self._state.get(attribute_id, AssetAttribute.unavailable()).value

        with self._changed:
            self._waiting += 1
            try:
                while not comparison(current(), value):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(min(remaining, _POLL_INTERVAL) if use_ksqlDB else remaining)
            finally:
                self._waiting -= 1
        return True

    def close(self) -> None:
        """Stop every subscription and release the transport (idempotent)."""
        if self._closed:
            return
        super().__setattr__("_closed", True)
        for name in list(self._subscriptions):
            self._unsubscribe(name)
        self._transport.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.asset_uuid!r})"

    # internals --------------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        """The transport this asset publishes and subscribes through."""
        return self._transport

    def _snapshot(self) -> dict[str, AssetAttribute]:
        with self._lock:
            return dict(self._state)

    def _of_type(self, type_: str) -> list[dict[str, Any]]:
        return [
            {"ID": name, "VALUE": attr.value}
            for name, attr in self._snapshot().items()
            if attr.type == type_
        ]

    def _store(self, attribute_id: str, attribute: AssetAttribute) -> None:
        # A single dict store is atomic: updates and their echoes (once per record) take no
        # lock. The lock is for wait_until's wake-up, and for _load_state's check-then-set,
        # which only records decoded from the broker can race (they store under the lock).
        self._state[attribute_id] = attribute
        if self._waiting:
            with self._changed:
                self._changed.notify_all()

    def _on_record(self, record: Record) -> None:
        echo = self._echoes.pop(record.value, None) if record.value is not None else None
        if echo is not None:
            # Stored again: another writer's record may have come in between.
            self._store(echo.id or "", echo)
            self._on_attribute(echo)
            return
        value = decode_asset_record(record)
        if value is None:
            return
        try:
            attribute = AssetAttribute(
                value.get("VALUE"),
                value.get("TYPE", "UNAVAILABLE"),
                value.get("TAG", "UNAVAILABLE"),
                (value.get("attributes") or {}).get("timestamp", ""),
                value["ID"],
            )
        except (ConfigurationError, KeyError, AttributeError) as err:
            logger.warning(
                "asset %s: ignoring malformed record %r (%s)", self.asset_uuid, record, err
            )
            return
        with self._lock:
            self._store(attribute.id or "", attribute)
        self._on_attribute(attribute)

    def _on_attribute(self, attribute: AssetAttribute) -> None:
        """Hook for subclasses: a record of this asset arrived from the broker."""

    def _view(self, asset_uuid: str) -> Asset:
        return Asset(
            asset_uuid, self.ksql, self.bootstrap_servers, self.asset_router_url, self.test_mode
        )
