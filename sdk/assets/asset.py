"""``Asset``: a live view of any OpenFactory asset, read from ksqlDB and kept current from Kafka.

``Asset`` owns its collaborators and delegates to them: ``AssetState`` (``_state.py``: the
attributes, their lock, ksqlDB) and ``AssetFeeds`` (``_feeds.py``: the named subscriptions);
``_calls.py`` resolves the platform library's calling forms. What stays here is the public API
and the write path, which is the hot path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any, ClassVar

from openfactory.assets._borrowed import BorrowedTransport
from openfactory.assets._calls import (
    CommandArguments,
    CommandSender,
    Comparison,
    attribute_to_add,
    method_caller,
    wait_arguments,
)
from openfactory.assets._feeds import AssetFeeds, MessageCallback, decode_attribute
from openfactory.assets._state import AssetState, query_asset_type
from openfactory.assets.asset_base import BaseAsset, endpoints
from openfactory.assets.attribute import (
    AssetAttribute,
    method_contract,
    read_attribute,
    validate_id,
)
from openfactory.assets.references import (
    REFERENCES_ABOVE,
    REFERENCES_BELOW,
    referenced_uuids,
    with_reference,
)
from openfactory.backends import open_transport
from openfactory.errors import OFAException
from openfactory.transport import KSQLDB, Record, Transport
from openfactory.transport.wire import (
    ASSETS_STREAM,
    ASSETS_TABLE,
    ATTRIBUTE_TYPES,
    asset_record,
    stamped_record,
)
from openfactory.utils.asset_producer import AssetProducer

# Records published by this asset whose echo from the broker has not come back yet (a few
# hundred bytes each); past this many they are all forgotten, and an echo that comes later
# is decoded like any record. Bursts of tens of thousands of updates stay within it.
_ECHO_MEMORY = 65536
_new_attribute = object.__new__

# What the echo memory keeps of a published attribute: (value, type, tag, timestamp, id). A
# tuple, not the AssetAttribute: the garbage collector stops tracking a tuple of strings and
# numbers at its first pass, while thousands of AssetAttributes waiting for their echo would
# be promoted to the oldest generation at every pass, and collecting that one walks every
# object of the process (measured: a 20-30 ms pause every 30-50k updates, a tenth of the
# publishing rate, with the echoes a few milliseconds behind).
_Echo = tuple[Any, str, str, str, str]


class Asset(BaseAsset):
    """A live view of asset ``asset_uuid``: attributes read by name, assignment publishes.

    State is loaded from ksqlDB and kept current from the broker; an unknown attribute
    reads as ``UNAVAILABLE``. ``transport=`` (keyword-only) runs the asset on that transport;
    otherwise ``openfactory.backends`` chooses one. Outside test mode, ``bootstrap_servers``
    and ``asset_router_url`` default to env ``KAFKA_BROKER`` and ``ASSET_ROUTER_URL``.
    Raises ``ConfigurationError`` (an ``OFAException``) for a bad UUID or broker setup.

    The assignment rule: assigning a *public* name that is an attribute of the asset publishes
    it (an ``AssetAttribute`` as given, its id being that name; any other value as the new
    value, keeping type and tag); assigning a Method of the asset raises ``OFAException``, and
    so does an ``AssetAttribute`` for a name that is no attribute yet (use ``add_attribute``).
    Names that start with ``_`` never publish: write private state with plain ``self._x =
    ...``. Nor do names the class defines (properties; declared attributes publish through
    their descriptor), public names set before the asset is built (the constructor's
    ``asset_uuid``, ``ksql``, ..., or a subclass's ``logger`` set before ``super().__init__``),
    and other values for names that are no attribute of the asset: those are plain Python
    attributes.
    """

    KSQL_ASSET_TABLE: ClassVar[str] = ASSETS_TABLE
    KSQL_ASSET_ID: ClassVar[str] = "asset_uuid"

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
        self._open(
            asset_uuid, asset_uuid, ksqlClient, bootstrap_servers, asset_router_url, test_mode,
            transport,
        )  # fmt: skip

    def _open(
        self,
        asset_id: str,
        asset_uuid: str | None,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None,
        asset_router_url: str | None,
        test_mode: bool,
        transport: Transport | None,
    ) -> None:
        """Connect, then follow the records of ``asset_uuid`` (``None``: none yet) and load the
        ksqlDB rows of ``asset_id`` (see ``BaseAsset``)."""
        self.ASSET_ID = asset_id
        self.ksql = ksqlClient
        bootstrap_servers, asset_router_url = endpoints(
            bootstrap_servers, asset_router_url, test_mode
        )
        self.bootstrap_servers = bootstrap_servers
        self.asset_router_url = asset_router_url
        self.test_mode = test_mode
        self._closed = False
        self._echoes: dict[bytes, _Echo] = {}  # see _send
        transport = open_transport(
            ksqlClient, bootstrap_servers, test_mode, transport, asset_router_url=asset_router_url
        )
        self._transport = transport
        try:
            self._assets_topic = transport.topic_for(ASSETS_STREAM)
        except BaseException:
            transport.close()  # a half-built asset must not keep a producer retrying forever
            raise
        self._feeds = AssetFeeds(transport, self._assets_topic, asset_uuid)
        # Built: from here on public names publish (see __setattr__).
        self._state = AssetState(asset_id, transport, self.KSQL_ASSET_TABLE, self.KSQL_ASSET_ID)
        self._commands = CommandSender(asset_id, self._state, transport, self._assets_topic)
        try:
            # Subscribe before loading so no update can fall between the query and the feed.
            self._feeds.follow("_state", _own_records(self))
            self._state.load()
        except BaseException:
            self.close()
            raise

    # reading and writing attributes ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = self._state.get(name)
        if attribute is None:
            return AssetAttribute.unavailable(name)
        type_ = attribute.type
        if type_ == "Samples":
            return read_attribute(attribute) if attribute.value.__class__ is str else attribute
        if type_ == "Method":
            return method_caller(self.method, name)
        return attribute

    def __setattr__(self, name: str, value: Any) -> None:
        # The rule in the class docstring; "_state" is set once the asset is built. Names the
        # class defines are asked first: declared attributes, the ones updated most often.
        if hasattr(type(self), name) or name.startswith("_") or "_state" not in self.__dict__:
            object.__setattr__(self, name, value)  # declared attributes publish from here
            return
        current = self._state.get(name)
        if current is None:
            if isinstance(value, AssetAttribute):
                raise OFAException(
                    f"{name!r} is not an attribute of asset {self.ASSET_ID!r}: add it with "
                    f"add_attribute(AssetAttribute(id={name!r}, ...)) before assigning it"
                )
            object.__setattr__(self, name, value)
        elif current.type == "Method":
            raise OFAException(f"{name} is an Asset method. It can not be assigned.")
        elif isinstance(value, AssetAttribute):
            if value.id is not None and value.id != name:
                raise OFAException(
                    f"the AssetAttribute's id {value.id!r} does not match the attribute "
                    f"{name!r} it is assigned to: use AssetAttribute(id={name!r}, ...)"
                )
            self.add_attribute(name, value)
        else:
            self._publish_value(name, value, current.type, current.tag)

    def add_attribute(
        self,
        attribute_id: str | AssetAttribute | None = None,
        asset_attribute: AssetAttribute | bool | None = None,
        wait_to_become_available: bool = True,
    ) -> None:
        """Publish an attribute of this asset; it is this view's value at once.

        Both forms: the platform's ``add_attribute(AssetAttribute(id="temp", ...))`` (the id
        inside; an optional second argument is ``wait_to_become_available``) and this SDK's
        ``add_attribute("temp", AssetAttribute(...))``. ``wait_to_become_available`` is
        accepted and returns at once, as the platform's does (its wait is already satisfied by
        its own cache): ksqlDB materializes the attribute shortly after; wait for that with
        ``wait_until(id, value, use_ksqlDB=True)``. Raises ``ConfigurationError`` for a missing
        or bad id, or a value that is not an ``AssetAttribute``.
        """
        published = attribute_to_add(attribute_id, asset_attribute)
        validate_id("attribute_id", published.id)
        self._publish_attribute(published)

    def attributes(self) -> list[str]:
        """Ids of this asset's attributes, methods excluded (bookkeeping ones included:
        ``AssetType``, ``references_above``, ``<method>_CMD``, ...)."""
        return [name for name, attr in self._state.snapshot().items() if attr.type != "Method"]

    def samples(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ..., "TAG": ...}]`` for every ``Samples`` attribute (numeric
        text as a float; TAG without ``{namespace}`` groups)."""
        return self._state.of_type("Samples")

    def events(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ..., "TAG": ...}]`` for every ``Events`` attribute."""
        return self._state.of_type("Events")

    def conditions(self) -> list[dict[str, Any]]:
        """``[{"ID": ..., "VALUE": ..., "TAG": ...}]`` for every ``Condition`` attribute."""
        return self._state.of_type("Condition")

    def methods(self) -> dict[str, Any]:
        """Method name -> its contract (``{"description": ..., "arguments": [...]}``); a value
        that is not JSON stays text, a null one is ``None``."""
        return {
            name: method_contract(attr.value)
            for name, attr in self._state.snapshot().items()
            if attr.type == "Method"
        }

    @property
    def type(self) -> str:
        """The asset's type in ksqlDB (``OpenFactoryApp``, ``Device``, ...; ``UNAVAILABLE`` if
        none), asked on every read. Raises ``KSQLDBError`` when ksqlDB cannot answer."""
        return query_asset_type(self._transport, self.asset_uuid)

    @property
    def ofa_attributes(self) -> dict[str, AssetAttribute]:
        """Id -> ``AssetAttribute`` of every attribute but the methods (a snapshot)."""
        return {
            name: read_attribute(attr)
            for name, attr in self._state.snapshot().items()
            if attr.type != "Method"
        }

    @property
    def ofa_methods(self) -> dict[str, Any]:
        """Method name -> its contract (a snapshot; see ``methods()``)."""
        return self.methods()

    def resync_state(self) -> None:
        """Reload every attribute from ksqlDB, replacing the values this view holds (none is
        removed). A ksqlDB error is logged and leaves the state as it is."""
        self._state.load(overwrite=True)

    @cached_property
    def producer(self) -> AssetProducer:
        """The platform library's producer of asset records, on this asset's transport."""
        return AssetProducer(self.ksql, self.bootstrap_servers, transport=self._transport)

    # for attribute descriptors on subclasses (openfactory.apps.declared) ------------------
    def _current(self, attribute_id: str) -> AssetAttribute | None:
        """The current value of ``attribute_id``, ``None`` if the asset has no such attribute."""
        return self._state.get(attribute_id)

    def _publish_attribute(self, attribute: AssetAttribute) -> None:
        """Publish ``attribute`` (``id`` already checked); it becomes the current value."""
        attribute_id = attribute.id or ""
        value, type_, tag, timestamp = (
            attribute.value, attribute.type, attribute.tag, attribute.timestamp
        )  # fmt: skip
        payload = asset_record(attribute_id, value, tag, type_, timestamp)
        self._send(attribute, payload, (value, type_, tag, timestamp, attribute_id))

    def _publish_value(self, attribute_id: str, value: Any, type_: str, tag: str) -> None:
        """Publish ``value`` as attribute ``attribute_id`` (already checked) of TYPE ``type_``
        and TAG ``tag``, stamped now; it becomes the current value. Raises
        ``ConfigurationError`` for a bad type or tag.

        What ``_publish_attribute(AssetAttribute(value, type_, tag, id=attribute_id))`` does,
        for the updates of declared attributes and assignments: one per ``app.x = ...``.
        """
        if type_ not in ATTRIBUTE_TYPES or type(tag) is not str:
            self._publish_attribute(AssetAttribute(value, type_, tag, id=attribute_id))
            return
        timestamp, payload = stamped_record(attribute_id, value, tag, type_)
        # Checked above, as AssetAttribute.__init__ would check it: built field by field.
        attribute = _new_attribute(AssetAttribute)
        attribute.value, attribute.type, attribute.tag = value, type_, tag
        attribute.timestamp, attribute.id = timestamp, attribute_id
        # What _send does, written out: one call less per update.
        echoes = self._echoes
        if len(echoes) >= _ECHO_MEMORY:
            echoes.clear()
        echoes[payload] = (value, type_, tag, timestamp, attribute_id)
        try:
            self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        except BaseException:
            echoes.pop(payload, None)
            raise
        if payload in echoes:
            self._state.store(attribute_id, attribute)

    def _send(self, attribute: AssetAttribute, payload: bytes, echo: _Echo) -> None:
        # The write path loops back: the broker echoes the record to this asset's own feed
        # (_on_record). Remembered by its bytes (before publishing, as the in-memory broker
        # echoes at once), the echo is recognised instead of decoded again. Single dict
        # operations need no lock; a race costs at most one echo decoded the slow way.
        echoes = self._echoes
        if len(echoes) >= _ECHO_MEMORY:
            echoes.clear()  # echoes that never came (subscription stopped, or lost)
        echoes[payload] = echo
        try:
            self._transport.publish(self._assets_topic, self.asset_uuid, payload)
        except BaseException:
            echoes.pop(payload, None)
            raise
        if payload in echoes:
            # Not echoed yet (always so on Kafka): current from now. Once echoed (in memory,
            # inside publish), the echo stored it in the topic's order already.
            self._state.store(echo[4], attribute)

    def _on_record(self, record: Record) -> None:
        value = record.value
        if value is not None and self._take_echo(value):
            return
        attribute = decode_attribute(record)
        if attribute is None:
            return
        if self._echoes and self._take_echo(_as_published(attribute)):
            return  # this asset's record relayed with other bytes (the fan-out layer's stamps)
        self._state.store_received(attribute)
        self._on_attribute(attribute)

    def _take_echo(self, value: bytes) -> bool:
        """Take the record ``value`` if it is one this asset published; False if it is not."""
        echo = self._echoes.pop(value, None)
        if echo is None:
            return False
        attribute = _new_attribute(AssetAttribute)
        attribute.value, attribute.type, attribute.tag, attribute.timestamp, attribute.id = echo
        # Stored again: another writer's record may have come in between, and the topic's
        # order is the truth.
        self._state.store(echo[4], attribute)
        self._on_attribute(attribute)
        return True

    def _on_attribute(self, attribute: AssetAttribute) -> None:
        """Hook for subclasses: a record of this asset arrived from the broker."""

    # subscriptions ----------------------------------------------------------------------
    # Callbacks get (subject, payload): subject "<asset uuid>.<attribute id>", payload the record
    # as published (a MessagePayload), for records published after subscribing. One callback
    # per kind (per attribute): subscribing again raises OFAException until stop_*() is called.
    # The optional last argument is a consumer-group name that the platform's documented
    # examples pass: accepted and ignored.
    def subscribe_to_attribute(
        self, attribute_id: str, on_message: MessageCallback, consumer_group: str | None = None
    ) -> None:
        """Call ``on_message(subject, payload)`` for each new value of ``attribute_id``."""
        self._feeds.open_attribute(validate_id("attribute_id", attribute_id), on_message)

    def stop_attribute_subscription(self, attribute_id: str | None = None) -> None:
        """Stop the subscription to ``attribute_id`` (all attribute subscriptions if ``None``)."""
        self._feeds.stop_attributes(attribute_id)

    def subscribe_to_messages(
        self, on_message: MessageCallback, consumer_group: str | None = None
    ) -> None:
        """Call ``on_message(subject, payload)`` for every record of this asset."""
        self._feeds.open("messages", on_message)

    def stop_messages_subscription(self) -> None:
        """Stop ``subscribe_to_messages``."""
        self._feeds.stop("messages")

    def subscribe_to_samples(
        self, on_sample: MessageCallback, consumer_group: str | None = None
    ) -> None:
        """Call ``on_sample(subject, payload)`` for every new ``Samples`` value."""
        self._feeds.open("samples", on_sample)

    def stop_samples_subscription(self) -> None:
        """Stop ``subscribe_to_samples``."""
        self._feeds.stop("samples")

    def subscribe_to_events(
        self, on_event: MessageCallback, consumer_group: str | None = None
    ) -> None:
        """Call ``on_event(subject, payload)`` for every new ``Events`` value."""
        self._feeds.open("events", on_event)

    def stop_events_subscription(self) -> None:
        """Stop ``subscribe_to_events``."""
        self._feeds.stop("events")

    def subscribe_to_conditions(
        self, on_condition: MessageCallback, consumer_group: str | None = None
    ) -> None:
        """Call ``on_condition(subject, payload)`` for every new ``Condition`` value."""
        self._feeds.open("conditions", on_condition)

    def stop_conditions_subscription(self) -> None:
        """Stop ``subscribe_to_conditions``."""
        self._feeds.stop("conditions")

    # references ---------------------------------------------------------------------------
    def add_reference_above(self, above_asset_reference: str) -> None:
        """Record that asset ``above_asset_reference`` sits above this one (listed first)."""
        current = self._references(REFERENCES_ABOVE)
        self.add_attribute(REFERENCES_ABOVE, with_reference(current, above_asset_reference))

    def add_reference_below(self, below_asset_reference: str) -> None:
        """Record that asset ``below_asset_reference`` sits below this one (listed first)."""
        current = self._references(REFERENCES_BELOW)
        self.add_attribute(REFERENCES_BELOW, with_reference(current, below_asset_reference))

    def references_above_uuid(self) -> list[str]:
        """Ids of the assets above this one, newest first."""
        return referenced_uuids(self._references(REFERENCES_ABOVE))

    def references_below_uuid(self) -> list[str]:
        """Ids of the assets below this one, newest first."""
        return referenced_uuids(self._references(REFERENCES_BELOW))

    def references_above(self) -> list[Asset]:
        """Views of the assets above this one, on this asset's transport."""
        return [self._view(uuid) for uuid in self.references_above_uuid()]

    def references_below(self) -> list[Asset]:
        """Views of the assets below this one, on this asset's transport."""
        return [self._view(uuid) for uuid in self.references_below_uuid()]

    # The platform's 0.6.6 names.
    get_references_above_uuid = references_above_uuid
    get_references_below_uuid = references_below_uuid
    get_references_above = references_above
    get_references_below = references_below

    def _references(self, direction: str) -> AssetAttribute | None:
        return self._state.get(direction)

    def _view(self, asset_id: str) -> Asset:
        """A view of asset ``asset_id`` built as this one was: same client, broker, router,
        test mode, and this asset's transport (borrowed: closing the view leaves it open)."""
        return Asset(
            asset_id, self.ksql, self.bootstrap_servers, self.asset_router_url, self.test_mode,
            transport=BorrowedTransport(self._transport),
        )  # fmt: skip

    # commands ---------------------------------------------------------------------------
    def method(self, method: str, sender_uuid: str, args: CommandArguments = None) -> str:
        """Ask this asset to run ``method`` with ``args`` (``(name, value)`` pairs or a
        mapping; values sent as strings); returns the command's correlation id.

        A method this view does not list yet is looked up in ksqlDB once before refusing.
        Raises ``CommandError`` when the asset has no such method or an argument cannot be
        sent as a string.
        """
        return self._commands.send(self.asset_uuid, method, sender_uuid, args)

    # waiting and closing ----------------------------------------------------------------
    def wait_until(
        self,
        attribute_id: str,
        value: Any,
        comparison: Comparison | float = operator.eq,
        *more: Any,
        timeout: float = 30,
        use_ksqlDB: bool = False,
    ) -> bool:
        """Wait until ``comparison(attribute value, value)`` holds; False after ``timeout`` s.

        The third argument may also be a timeout (the platform's 0.5.3 form
        ``wait_until(id, value, 30, use_ksqlDB)``). Samples compare as read (numeric text as
        a float); an attribute the asset does not have yet reads ``UNAVAILABLE``, so the wait
        ends False at timeout unless it appears with the value. ``use_ksqlDB=True`` polls
        ksqlDB instead of this view's state. Raises ``TypeError`` for a third argument that is
        neither a callable nor a number.
        """
        comparison, timeout, use_ksqlDB = wait_arguments(comparison, more, timeout, use_ksqlDB)
        return self._state.wait_until(attribute_id, value, comparison, timeout, use_ksqlDB)

    def close(self) -> None:
        """Stop every subscription and release the transport (idempotent; a view built by
        ``references_*()`` leaves the transport it borrowed open)."""
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
        return f"{type(self).__name__}({self.ASSET_ID!r})"


class _OwnRecords(partial[None]):
    """The records of an asset's own key, for its state: called with each record, and with
    ``claim`` a transport's reader hands over the asset's own echoes by their raw bytes before
    it builds a ``Record`` (see ``openfactory.kafka``'s topic reader). A ``partial``: called
    as directly as the bound method it wraps, and it takes an attribute."""

    claim: Callable[[bytes], bool]


def _own_records(asset: Asset) -> _OwnRecords:
    feed = _OwnRecords(asset._on_record)
    feed.claim = asset._take_echo
    return feed


def _as_published(attribute: AssetAttribute) -> bytes:
    """The record this SDK publishes for ``attribute``: what its own echo would be, byte for
    byte, before a relay (the fan-out layer's forwarder) added its timestamps."""
    return asset_record(
        attribute.id or "", attribute.value, attribute.tag, attribute.type, attribute.timestamp
    )
