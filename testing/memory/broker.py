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
from openfactory.transport import DeliveryReport, Record, RecordCallback, Subscription, new_record
from openfactory.transport.murmur2 import partition_for

logger = logging.getLogger("openfactory.testing.memory.broker")

AckCallback = Callable[[DeliveryReport], None]


#: Records a fake broker keeps per topic by default (the newest; offsets keep counting).
DEFAULT_RETENTION = 100_000


class _Topic:
    """One topic: its partitions' next offsets and the newest ``retention`` records."""

    __slots__ = (
        "by_key",
        "catch_all",
        "log",
        "name",
        "next_offset",
        "partitions",
        "placed",
        "routes",
    )  # fmt: skip

    def __init__(self, name: str, partitions: int, retention: int | None) -> None:
        self.name = name
        self.partitions = partitions
        self.next_offset = [0] * partitions
        self.log: deque[Record] = deque(maxlen=retention)
        # Key -> partition: murmur2 runs once per key, not once per record.
        self.placed: dict[str | None, int] = {}
        # Key -> the subscriptions its records reach, in subscription order; built on first
        # use, dropped when a subscription of the key (or of every key) comes or goes.
        self.routes: dict[str | None, tuple[_BrokerSubscription, ...]] = {}
        self.by_key: dict[str, list[_BrokerSubscription]] = {}
        self.catch_all: list[_BrokerSubscription] = []


@dataclass
class _Pending:
    topic: str
    key: str | None
    value: bytes | None
    on_ack: AckCallback | None
    on_failure: AckCallback | None
    held: bool = False


# Keys whose partition a topic remembers; past this many it forgets them all (a topic keyed by
# a fresh id per record must not grow a cache as big as its log).
_PLACED_KEPT = 65536


class _BrokerSubscription(Subscription):
    def __init__(
        self, broker: FakeBroker, topic: str, key: str | None, callback: RecordCallback, seq: int
    ):
        self._broker = broker
        self.topic = topic
        self.key = key
        self.callback = callback
        self.seq = seq  # the order subscriptions see a record in: the order they were made
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
        self._subscribed = 0
        self._queue: deque[_Pending] = deque()
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._flushing = 0  # threads waiting in flush(): nobody to wake most of the time
        self._drainer: int | None = None
        self._fail_next: list[str] = []
        self._hold_next = 0
        self._connected = True
        # Replaced, never changed in place: a delivery in progress keeps the one it started with.
        self._listeners: tuple[RecordCallback, ...] = ()

    # topics -----------------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int | None = None) -> None:
        """Create ``name`` (no-op if it exists); raises ``ConfigurationError`` on a bad name."""
        if type(name) is str and name in self._topics:
            return  # asked on every subscription: known names are valid
        if not name or not isinstance(name, str):
            raise ConfigurationError(f"topic name must be a non-empty string, got {name!r}")
        count = self.default_partitions if partitions is None else partitions
        if count < 1:
            raise ConfigurationError(f"topic {name!r} needs >= 1 partition, got {count}")
        with self._lock:
            if name not in self._topics:
                self._topics[name] = _Topic(name, count, self.retention)

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
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        on_ack: AckCallback | None = None,
        *,
        on_failure: AckCallback | None = None,
    ) -> None:
        """Queue a record for ``topic``; it is appended and delivered before this returns,
        unless a delivery is already running (then right after it) or the broker is
        disconnected (then on ``reconnect()``).

        ``on_ack`` gets the record's delivery report; ``on_failure`` only a failed one (for
        who counts failures: nothing is built for a record delivered).
        """
        if value is not None and type(value) is not bytes:
            if not isinstance(value, bytearray):
                raise TransportError(
                    f"record value must be bytes or None, got {type(value).__name__}"
                )
            value = bytes(value)
        with self._lock:
            if (
                self._drainer is None
                and not self._queue
                and self._connected
                and not self._hold_next
                and not self._fail_next
            ):
                # Nothing ahead of it and nobody delivering: append and deliver it at once,
                # without a trip through the queue.
                self._drainer = threading.get_ident()
                record = self._append(topic, key, value)
                subscribers = self._route(record)
                listeners = self._listeners
            else:
                held = self._hold_next > 0
                self._hold_next -= held
                self._queue.append(_Pending(topic, key, value, on_ack, on_failure, held))
                record = None
        if record is None:
            self._drain()
            return
        try:
            self._deliver(record, on_ack, listeners, subscribers)
        except BaseException:
            # Only what a subscriber may not swallow gets here (a signal stopping the app).
            self._release(None)
            raise
        self._run(None)

    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """Call ``callback`` with each record of ``key`` (any key if ``None``) appended from now."""
        with self._lock:
            self.create_topic(topic)
            held = self._topics[topic]
            self._subscribed += 1
            subscription = _BrokerSubscription(self, topic, key, callback, self._subscribed)
            if key is None:
                held.catch_all.append(subscription)
                held.routes.clear()
            else:
                held.by_key.setdefault(key, []).append(subscription)
                held.routes.pop(key, None)
        return subscription

    def add_listener(self, callback: RecordCallback) -> Callable[[], None]:
        """Observe every record appended on any topic; returns a function that removes it."""
        with self._lock:
            self._listeners = (*self._listeners, callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    listeners = list(self._listeners)
                    listeners.remove(callback)
                    self._listeners = tuple(listeners)

        return remove

    def _unsubscribe(self, subscription: _BrokerSubscription) -> None:
        with self._lock:
            held = self._topics.get(subscription.topic)
            if held is None:
                return
            key = subscription.key
            subscribers = held.catch_all if key is None else held.by_key.get(key, [])
            if subscription in subscribers:
                subscribers.remove(subscription)
            if key is None:
                held.routes.clear()
            else:
                held.routes.pop(key, None)
                if not subscribers:
                    held.by_key.pop(key, None)

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
            self._flushing += 1
            try:
                while self._flowing():
                    remaining = deadline - _clock.monotonic()
                    if remaining <= 0:
                        break
                    self._idle.wait(remaining)
            finally:
                self._flushing -= 1
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
    # One thread at a time delivers (the "drainer"): the publisher whose record found nobody
    # delivering, or whoever drains the queue later. Records published meanwhile, by other
    # threads or by the callbacks themselves, wait in the queue, so every subscriber sees a
    # key's records in offset order.
    def _flowing(self) -> bool:
        """Something is queued and may be appended now (call with the lock held)."""
        return bool(self._queue) and self._connected and not self._queue[0].held

    def _drain(self, nested: bool = False) -> None:
        with self._lock:
            if self._drainer is not None and not nested:
                return
            outer, self._drainer = self._drainer, threading.get_ident()
        self._run(outer)

    def _run(self, outer: int | None) -> None:
        """Deliver what is queued, then hand the drainer role back to ``outer``."""
        while True:
            with self._lock:
                if not self._flowing():
                    self._drainer = outer
                    if self._flushing:
                        self._idle.notify_all()
                    return
                pending = self._queue.popleft()
                failure = self._fail_next.pop(0) if self._fail_next else None
                if failure is None:
                    record = self._append(pending.topic, pending.key, pending.value)
                    subscribers = self._route(record)
                    listeners = self._listeners
            try:
                if failure is None:
                    self._deliver(record, pending.on_ack, listeners, subscribers)
                else:
                    failed = Record(pending.topic, pending.key, pending.value)
                    for on_ack in (pending.on_ack, pending.on_failure):
                        self._deliver(failed, on_ack, (), (), failure)
            except BaseException:
                self._release(outer)
                raise

    def _release(self, outer: int | None) -> None:
        with self._lock:
            self._drainer = outer
            if self._flushing:
                self._idle.notify_all()

    def _append(self, topic_name: str, key: str | None, value: bytes | None) -> Record:
        topic = self._topics.get(topic_name)
        if topic is None:
            self.create_topic(topic_name)
            topic = self._topics[topic_name]
        partition = topic.placed.get(key)
        if partition is None:
            partition = self._place(topic, key)
        offset = topic.next_offset[partition]
        topic.next_offset[partition] = offset + 1
        now_ms = _clock.time_ns() // 1_000_000  # the SDK's wall clock: virtual in a VirtualClock
        record = new_record(topic_name, key, value, partition, offset, now_ms)
        topic.log.append(record)
        return record

    @staticmethod
    def _place(topic: _Topic, key: str | None) -> int:
        if key is None or topic.partitions == 1:
            partition = 0
        else:
            partition = partition_for(key.encode(), topic.partitions)
        if len(topic.placed) >= _PLACED_KEPT:
            topic.placed.clear()
        topic.placed[key] = partition
        return partition

    def _route(self, record: Record) -> tuple[_BrokerSubscription, ...]:
        """The subscriptions ``record`` reaches (call with the lock held)."""
        topic = self._topics[record.topic]
        key = record.key
        route = topic.routes.get(key)
        if route is None:
            keyed = topic.by_key.get(key, ()) if key is not None else ()
            if keyed and topic.catch_all:
                route = tuple(sorted((*topic.catch_all, *keyed), key=_order))
            else:
                route = tuple(keyed or topic.catch_all)
            topic.routes[key] = route
        return route

    @staticmethod
    def _deliver(
        record: Record,
        on_ack: AckCallback | None,
        listeners: tuple[RecordCallback, ...],
        subscribers: tuple[_BrokerSubscription, ...],
        failure: str | None = None,
    ) -> None:
        # A failing callback must not stop delivery to the others: each is guarded.
        if on_ack is not None:
            try:
                on_ack(DeliveryReport(record, failure))
            except Exception:
                logger.exception("delivery callback %r raised for %r", on_ack, record)
        for listener in listeners:
            try:
                listener(record)
            except Exception:
                logger.exception("listener %r raised while handling %r", listener, record)
        for subscription in subscribers:
            if subscription.active:
                try:
                    subscription.callback(record)
                except Exception:
                    logger.exception(
                        "subscriber %r raised while handling %r", subscription.callback, record
                    )
        # Kept for retention: the bytes only, not what subscribers decoded.
        record.forget_json()


def _order(subscription: _BrokerSubscription) -> int:
    return subscription.seq
