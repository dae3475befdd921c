"""What a ``Transport`` carries and reports: records, delivery outcomes, subscriptions."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openfactory._logtext import shown
from openfactory.errors import DeliveryError
from openfactory.transport.wire import attribute_id_of

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

        The result is decoded once and shared by every subscriber: treat it as read-only. It is
        kept until ``forget_json()``: a holder of many records calls that to keep only the bytes.
        """
        decoded = self._decoded
        if decoded is _NOT_DECODED:
            decoded = None if self.value is None else json.loads(self.value)
            # The one mutable slot of a frozen record: a cache, left out of equality.
            object.__setattr__(self, "_decoded", decoded)
        return decoded

    def forget_json(self) -> None:
        """Drop the value ``json()`` decoded (several times the size of the bytes); the next
        ``json()`` decodes again."""
        object.__setattr__(self, "_decoded", _NOT_DECODED)

    def __repr__(self) -> str:
        if self.value is None:
            value = "<tombstone>"
        else:
            value = self.value[:60].decode(errors="replace")
            if len(self.value) > 60:
                value += f"... ({len(self.value)} bytes)"
        key = shown(self.key)
        return f"Record({self.topic}[{self.partition}]@{self.offset} key={key} {value})"


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
    """What ``Transport.flush`` achieved: records still undelivered, and the delivery failures
    of the transport so far: ``failure_count`` of them, the last of which are in ``failures``
    (at most ``Transport.failures_kept``)."""

    undelivered: int = 0
    failures: list[DeliveryReport] = field(default_factory=list)
    failure_count: int = 0

    def __post_init__(self) -> None:
        # A result given only the list counts the list.
        self.failure_count = max(self.failure_count, len(self.failures))

    @property
    def ok(self) -> bool:
        """True when everything published was delivered."""
        return self.undelivered == 0 and self.failure_count == 0
