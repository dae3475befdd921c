"""In-memory Kafka: topics with partitions, keys, offsets, tombstones and ordered delivery.

Records are delivered synchronously, in publish order, by whichever thread drains the
delivery queue (normally the publisher), so tests are deterministic without sleeping.
A callback that publishes while a delivery is running queues its record behind the current
one, so every subscriber sees the records of a key in offset order.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from openfactory import _clock
from openfactory.errors import ConfigurationError, TransportError
from openfactory.transport import DeliveryReport, Record, RecordCallback, Subscription
from openfactory.transport.murmur2 import partition_for

logger = logging.getLogger("openfactory.testing.memory.broker")

AckCallback = Callable[[DeliveryReport], None]


#: Records a fake broker keeps per topic by default (the newest; offsets keep counting).
DEFAULT_RETENTION = 100_000


@dataclass
class _Topic:
    name: str
    partitions: int
    next_offset: list[int]
    log: deque[Record]


@dataclass
class _Pending:
    topic: str
    key: str | None
    value: bytes | None
    on_ack: AckCallback | None
    held: bool = False


class _BrokerSubscription(Subscription):
    def __init__(self, broker: FakeBroker, topic: str, key: str | None, callback: RecordCallback):
        self._broker = broker
        self.topic = topic
        self.key = key
        self.callback = callback
        self.active = True

    def stop(self) -> None:
        self.active = False
        self._broker._unsubscribe(self)


class FakeBroker:
    """An in-memory Kafka cluster holding exactly the records a real broker would hold.

    Retention, as a topic's ``retention.*`` settings on Kafka: each topic keeps its newest
    ``retention`` records (100,000 by default; ``None`` keeps all), older ones are dropped and
    offsets go on counting. A kept record keeps only its bytes: the JSON its subscribers decoded
    while it was delivered is dropped after (``Record.forget_json``). So memory stays flat
    however long an app publishes (``bench/memory.py``).

    Fault injection: ``fail_next(n)`` rejects the next ``n`` publishes with a delivery error;
    ``disconnect()`` holds publishes as undelivered until ``reconnect()``.
    """

    def __init__(
        self, default_partitions: int = 1, *, retention: int | None = DEFAULT_RETENTION
    ) -> None:
        if default_partitions < 1:
            raise ConfigurationError(f"default_partitions must be >= 1, got {default_partitions}")
        if retention is not None and retention < 1:
            raise ConfigurationError(
                f"retention must be >= 1 record per topic or None (keep all), got {retention}"
            )
        self.default_partitions = default_partitions
        self.retention = retention
        self._topics: dict[str, _Topic] = {}
        self._subscriptions: dict[str, list[_BrokerSubscription]] = {}
        self._queue: deque[_Pending] = deque()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._drainer: int | None = None
        self._fail_next: list[str] = []
        self._hold_next = 0
        self._connected = True
        self._listeners: list[RecordCallback] = []

    # topics -----------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int | None = None) -> None:
        """Create ``name`` (no-op if it exists); raises ``ConfigurationError`` on a bad name."""
        if not name or not isinstance(name, str):
            raise ConfigurationError(f"topic name must be a non-empty string, got {name!r}")
        count = self.default_partitions if partitions is None else partitions
        if count < 1:
            raise ConfigurationError(f"topic {name!r} needs >= 1 partition, got {count}")
        with self._lock:
            if name not in self._topics:
                self._topics[name] = _Topic(name, count, [0] * count, deque(maxlen=self.retention))

    def topics(self) -> list[str]:
        """Names of the topics that exist, sorted."""
        with self._lock:
            return sorted(self._topics)

    def records(self, topic: str, key: str | None = None) -> list[Record]:
        """Records held on ``topic`` (only ``key``'s if given), in the order they were appended:
        the newest ``retention`` of them."""
        with self._lock:
            held = self._topics.get(topic)
            log = list(held.log) if held else []
        return log if key is None else [r for r in log if r.key == key]

    # publish / subscribe ----------------------------------------------------------------
    def produce(
        self, topic: str, key: str | None, value: bytes | None, on_ack: AckCallback | None = None
    ) -> None:
        """Queue a record for ``topic``; it is appended and delivered before this returns,
        unless a delivery is already running (then right after it) or the broker is
        disconnected (then on ``reconnect()``)."""
        if value is not None and not isinstance(value, bytes | bytearray):
            raise TransportError(f"record value must be bytes or None, got {type(value).__name__}")
        with self._lock:
            held = self._hold_next > 0
            self._hold_next -= held
            self._queue.append(_Pending(topic, key, bytes(value) if value else value, on_ack, held))
        self._drain()

    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """Call ``callback`` with each record of ``key`` (any key if ``None``) appended from now."""
        subscription = _BrokerSubscription(self, topic, key, callback)
        with self._lock:
            self.create_topic(topic)
            self._subscriptions.setdefault(topic, []).append(subscription)
        return subscription

    def add_listener(self, callback: RecordCallback) -> Callable[[], None]:
        """Observe every record appended on any topic; returns a function that removes it."""
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def _unsubscribe(self, subscription: _BrokerSubscription) -> None:
        with self._lock:
            subscribers = self._subscriptions.get(subscription.topic, [])
            if subscription in subscribers:
                subscribers.remove(subscription)

    def pending(self) -> int:
        """Number of records queued but not yet appended."""
        with self._lock:
            return len(self._queue)

    def flush(self, timeout: float = 10.0) -> int:
        """Wait until the delivery queue is empty or ``timeout`` passes; returns what is left."""
        if self._drainer == threading.get_ident():
            # Called from inside a delivery (e.g. a signal handler interrupting one): finish
            # the queue here rather than wait for ourselves.
            self._drain(nested=True)
            return self.pending()
        self._drain()
        deadline = _clock.monotonic() + timeout
        with self._idle:
            while self._flowing():
                remaining = deadline - _clock.monotonic()
                if remaining <= 0:
                    break
                self._idle.wait(remaining)
            return len(self._queue)

    # faults -----------------------------------------------------------------------------
    def fail_next(self, count: int = 1, reason: str = "injected broker failure") -> None:
        """Reject the next ``count`` publishes with a delivery error carrying ``reason``."""
        if count < 0:
            raise ConfigurationError(f"fail_next count must be >= 0, got {count}")
        with self._lock:
            self._fail_next.extend([reason] * count)

    def delay_next(self, count: int = 1) -> None:
        """Hold the next ``count`` publishes undelivered until ``release()``; records published
        after them wait behind them, as a slow broker keeps each key in order."""
        if count < 0:
            raise ConfigurationError(f"delay_next count must be >= 0, got {count}")
        with self._lock:
            self._hold_next += count

    def release(self) -> None:
        """Deliver the records held by ``delay_next``, in order."""
        with self._lock:
            self._hold_next = 0
            for pending in self._queue:
                pending.held = False
        self._drain()

    def disconnect(self) -> None:
        """Stop appending: publishes stay queued (undelivered) until ``reconnect()``."""
        with self._lock:
            self._connected = False

    def reconnect(self) -> None:
        """Resume appending and deliver everything queued while disconnected, in order."""
        with self._lock:
            self._connected = True
        self._drain()

    @property
    def connected(self) -> bool:
        """False between ``disconnect()`` and ``reconnect()``."""
        return self._connected

    # delivery ---------------------------------------------------------------------------
    def _flowing(self) -> bool:
        """Something is queued and may be appended now (call with the lock held)."""
        return bool(self._queue) and self._connected and not self._queue[0].held

    def _drain(self, nested: bool = False) -> None:
        me = threading.get_ident()
        with self._lock:
            if self._drainer is not None and not nested:
                return
            outer, self._drainer = self._drainer, me
        try:
            while True:
                with self._lock:
                    if not self._flowing():
                        self._idle.notify_all()
                        return
                    pending = self._queue.popleft()
                    failure = self._fail_next.pop(0) if self._fail_next else None
                    record = None if failure else self._append(pending)
                    subscribers = self._matching(record) if record else []
                    listeners = list(self._listeners) if record else []
                if failure:
                    failed = Record(pending.topic, pending.key, pending.value)
                    self._call(pending.on_ack, DeliveryReport(failed, failure))
                    continue
                assert record is not None
                self._call(pending.on_ack, DeliveryReport(record))
                for listener in listeners:
                    self._call(listener, record)
                for subscription in subscribers:
                    if subscription.active:
                        self._call(subscription.callback, record)
                # Kept for retention: the bytes only, not what subscribers decoded.
                record.forget_json()
        finally:
            with self._lock:
                self._drainer = outer

    def _append(self, pending: _Pending) -> Record:
        if pending.topic not in self._topics:
            self.create_topic(pending.topic)
        topic = self._topics[pending.topic]
        key_bytes = pending.key.encode() if pending.key is not None else None
        partition = partition_for(key_bytes, topic.partitions) if key_bytes is not None else 0
        offset = topic.next_offset[partition]
        topic.next_offset[partition] += 1
        now_ms = _clock.time_ns() // 1_000_000  # the SDK's wall clock: virtual in a VirtualClock
        record = Record(pending.topic, pending.key, pending.value, partition, offset, now_ms)
        topic.log.append(record)
        return record

    def _matching(self, record: Record) -> list[_BrokerSubscription]:
        return [
            s
            for s in self._subscriptions.get(record.topic, ())
            if s.key is None or s.key == record.key
        ]

    @staticmethod
    def _call(callback: Callable[..., object] | None, argument: object) -> None:
        if callback is None:
            return
        try:
            callback(argument)
        except Exception:
            # A failing subscriber must not stop delivery to the others.
            logger.exception("subscriber %r raised while handling %r", callback, argument)
