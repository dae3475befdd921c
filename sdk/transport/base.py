"""The transport seam: the only thing app and asset code know about brokers.

Two implementations honour this contract: the Kafka + ksqlDB production transport
(``openfactory.kafka.KafkaTransport``) and the in-memory one
(``openfactory.testing.InMemoryTransport``). The shared contract suite in
``tests/contract`` runs against both.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from openfactory.errors import DeliveryError, TransportError

logger = logging.getLogger("openfactory.transport")
_NOT_DECODED: Any = object()


@dataclass(frozen=True, slots=True)
class Record:
    """One record as the broker holds it: ``value`` is the raw bytes, ``None`` for a tombstone."""

    topic: str
    key: str | None
    value: bytes | None
    partition: int = 0
    offset: int = -1
    timestamp_ms: int = 0
    _decoded: Any = field(default=_NOT_DECODED, compare=False, repr=False)

    @property
    def is_tombstone(self) -> bool:
        """True for a record whose value is null (a delete marker for its key)."""
        return self.value is None

    def json(self) -> Any:
        """Decode the value as JSON (``None`` for a tombstone); raises ``ValueError`` if not JSON.

        The result is decoded once and shared by every subscriber: treat it as read-only.
        """
        decoded = self._decoded
        if decoded is _NOT_DECODED:
            decoded = None if self.value is None else json.loads(self.value)
            object.__setattr__(self, "_decoded", decoded)
        return decoded

    def __repr__(self) -> str:
        value = "<tombstone>" if self.value is None else self.value[:60].decode(errors="replace")
        return f"Record({self.topic}[{self.partition}]@{self.offset} key={self.key!r} {value})"


_setters = tuple(
    Record.__dict__[name].__set__
    for name in ("topic", "key", "value", "partition", "offset", "timestamp_ms", "_decoded")
)


def new_record(
    topic: str, key: str | None, value: bytes | None, partition: int, offset: int, timestamp_ms: int
) -> Record:
    """``Record(...)`` for the readers that build one per record consumed, at half the cost.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` for each field;
    the slot descriptors set them directly. Nothing is checked, as ``__init__`` checks nothing.
    """
    record = object.__new__(Record)
    set_topic, set_key, set_value, set_partition, set_offset, set_timestamp, set_decoded = _setters
    set_topic(record, topic)
    set_key(record, key)
    set_value(record, value)
    set_partition(record, partition)
    set_offset(record, offset)
    set_timestamp(record, timestamp_ms)
    set_decoded(record, _NOT_DECODED)
    return record


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Outcome of one publish: ``error`` is ``None`` when the broker acknowledged the record."""

    record: Record
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the record was delivered."""
        return self.error is None

    def as_error(self) -> DeliveryError:
        """The failure as a ``DeliveryError`` naming the record's asset and attribute."""
        return DeliveryError(
            self.error or "unknown error",
            topic=self.record.topic,
            key=self.record.key,
            attribute_id=attribute_id_of(self.record.value),
        )


RecordCallback = Callable[[Record], None]
DeliveryCallback = Callable[[DeliveryReport], None]


class Subscription(ABC):
    """A live subscription; ``stop()`` ends it (idempotent)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop delivering records to this subscription's callback."""


@dataclass
class FlushResult:
    """What ``Transport.flush`` achieved: records still undelivered and failures seen so far."""

    undelivered: int = 0
    failures: list[DeliveryReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when everything published was delivered."""
        return self.undelivered == 0 and not self.failures


class Transport(ABC):
    """Publish/subscribe on Kafka topics and pull queries on ksqlDB.

    Records published with the same key are delivered in order. ``publish`` never blocks on
    the network; failures are reported through ``on_delivery``, logged, and kept in
    ``failures`` so that nothing is lost silently.
    """

    #: Where subscribers' callbacks run. True: inside ``publish``, on the publisher's thread, so
    #: every record is delivered before ``publish`` returns (the in-memory backend, for
    #: deterministic tests). False: on the transport's reader thread, shared by every
    #: subscription of a topic in the process (Kafka), so a callback must not block there: work
    #: that may take long (an app's methods) goes to a thread of its own.
    inline_delivery: bool = False

    def __init__(self) -> None:
        self.failures: list[DeliveryReport] = []
        self._topics: dict[str, str] = {}
        self._closed = False

    def topic_for(self, name: str) -> str:
        """Kafka topic behind ksqlDB stream or table ``name`` (cached); raises ``KSQLDBError``."""
        key = name.upper()
        if key not in self._topics:
            self._topics[key] = self._resolve_topic(name)
        return self._topics[key]

    @abstractmethod
    def _resolve_topic(self, name: str) -> str:
        """Ask ksqlDB for the topic of ``name``."""

    @abstractmethod
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue one record (``value=None`` publishes a tombstone); raises ``TransportError``."""

    @abstractmethod
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """Deliver every record of ``key`` (all keys if ``None``) published from now on."""

    @abstractmethod
    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a ksqlDB pull query and return its rows; raises ``KSQLDBError``."""

    @abstractmethod
    def flush(self, timeout: float = 10.0) -> FlushResult:
        """Block until every queued record is delivered or ``timeout`` seconds have passed."""

    @abstractmethod
    def close(self) -> None:
        """Flush, stop this transport's subscriptions and release its resources (idempotent)."""

    def _check_publish(
        self, topic: str, key: str, value: bytes | None, on_delivery: DeliveryCallback | None
    ) -> bytes | None:
        """Validate ``publish`` arguments (for every implementation); returns bytes or None."""
        if (
            type(value) is bytes
            and type(key) is str
            and type(topic) is str
            and topic
            and on_delivery is None
            and not self._closed
        ):
            return value  # what every attribute update passes, checked in one go
        if self._closed:
            raise TransportError(f"cannot publish to {topic!r}: the transport is closed")
        if not isinstance(topic, str) or not topic:
            raise TransportError(f"topic must be a non-empty string, got {topic!r}")
        if not isinstance(key, str):
            raise TransportError(f"record key must be a str (the asset UUID), got {key!r}")
        if value is not None and not isinstance(value, bytes | bytearray):
            raise TransportError(
                f"record value must be bytes (encoded JSON) or None for a tombstone, "
                f"got {type(value).__name__}"
            )
        if on_delivery is not None and not callable(on_delivery):
            raise TransportError(f"on_delivery must be callable or None, got {on_delivery!r}")
        return bytes(value) if isinstance(value, bytearray) else value

    def _check_subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> None:
        """Validate ``subscribe`` arguments (shared by implementations)."""
        if self._closed:
            raise TransportError(f"cannot subscribe to {topic!r}: the transport is closed")
        if not isinstance(topic, str) or not topic:
            raise TransportError(f"topic must be a non-empty string, got {topic!r}")
        if key is not None and not isinstance(key, str):
            raise TransportError(f"subscription key must be a str or None, got {key!r}")
        if not callable(callback):
            raise TransportError(f"callback must be callable, got {callback!r}")

    def _report(self, report: DeliveryReport, on_delivery: DeliveryCallback | None) -> None:
        """Record and log a delivery outcome, then pass it to the caller's callback."""
        if not report.ok:
            self.failures.append(report)
            logger.error("%s", report.as_error())
        if on_delivery is not None:
            on_delivery(report)

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def attribute_id_of(value: bytes | None) -> str | None:
    """The ``ID`` field of an encoded asset record, if it has one (for error messages)."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    return decoded.get("ID") if isinstance(decoded, dict) else None
