"""Subscriptions on Kafka topics: one consumer and one thread per (broker, config, topic)
in the process, dispatching each record to every local subscription whose key matches.

No consumer group is joined (so no rebalance delay): the consumer ``assign()``s every
partition explicitly. Each subscription remembers the end offsets of the partitions at the
moment it was made and only sees records at or after them, so a record published after
``subscribe()`` returns is never missed and one published before is never delivered.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError
from openfactory.kafka._clients import (
    TOPIC_TIMEOUT_S,
    ConfigKey,
    admin_config,
    config_key,
    consumer_config,
    decode_key,
    logger,
    topic_partitions,
    translate,
)
from openfactory.transport import RecordCallback, Subscription, new_record

_BATCH = 500
_POLL_INTERVAL_S = 0.05
_WATERMARK_TIMEOUT_S = 5.0

ReaderKey = tuple[ConfigKey, str]
# A record key as the subscriptions know it, the subscriptions that want its records, and the
# claim of the only one of them, if it has one (see KafkaSubscription).
_Route = tuple[str | None, tuple["KafkaSubscription", ...], "Claim | None"]
Claim = Callable[[bytes], bool]


class KafkaSubscription(Subscription):
    """One subscriber's view of a topic reader: a key filter, a callback, start offsets.

    A callback that also has a ``claim(value: bytes) -> bool`` method is asked first with the
    record's raw value; True means it took the record (an asset's own echo, recognised by its
    bytes) and no ``Record`` is built for it.
    """

    def __init__(
        self, reader: TopicReader, key: str | None, callback: RecordCallback, start: dict[int, int]
    ) -> None:
        self.reader = reader
        self.key = key
        self.callback = callback
        claim = getattr(callback, "claim", None)
        self.claim: Claim | None = claim if callable(claim) else None
        # Partition -> first offset for this subscription; only the dispatch thread reads it,
        # and it forgets a partition once past its start there.
        self.start = start
        self.active = True

    def stop(self) -> None:
        """Stop delivering records to this subscription's callback (idempotent)."""
        if not self.active:
            return
        self.active = False
        if self.reader.remove(self):
            _forget(self.reader)
            self.reader.shutdown()

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"KafkaSubscription({self.reader.topic!r}, key={self.key!r}, {state})"


class TopicReader:
    """A consumer assigned to every partition of ``topic`` and the thread dispatching from it."""

    def __init__(
        self, key: ReaderKey, bootstrap_servers: str, config: Mapping[str, Any], topic: str
    ) -> None:
        self.key = key
        self.topic = topic
        self._admin = AdminClient(admin_config(bootstrap_servers, config))
        settings = consumer_config(bootstrap_servers, config)
        settings["group.id"] = f"openfactory-sdk-{uuid.uuid4()}"
        try:
            self._consumer = Consumer(settings)
        except (KafkaException, ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"invalid Kafka consumer configuration for {bootstrap_servers!r}: {exc}"
            ) from exc
        try:
            self._partitions = topic_partitions(
                self._consumer, topic, admin_config(bootstrap_servers, config), TOPIC_TIMEOUT_S
            )
            start = self.end_offsets()
            self._consumer.assign([TopicPartition(topic, p, start[p]) for p in self._partitions])
        except BaseException:
            self._consumer.close()
            raise
        self._lock = threading.Lock()
        self._subscriptions: list[KafkaSubscription] = []
        self._routes: dict[bytes | None, _Route] = {}
        self._closing = False
        self._stopping = threading.Event()
        self._thread = start_background_thread(
            self._serve, name=f"openfactory-kafka-consumer[{topic}]"
        )

    def end_offsets(self) -> dict[int, int]:
        """Current end (high watermark) offset of each partition; raises ``TransportError``."""
        # Asked through an admin client: a consumer busy in consume() on the reader thread
        # does not answer get_watermark_offsets() from another thread.
        wanted = {TopicPartition(self.topic, p): OffsetSpec.latest() for p in self._partitions}
        try:
            futures = self._admin.list_offsets(wanted, request_timeout=_WATERMARK_TIMEOUT_S)
            return {tp.partition: future.result().offset for tp, future in futures.items()}
        except KafkaException as exc:
            raise translate(exc, f"cannot read end offsets of topic {self.topic!r}") from exc

    def add(self, key: str | None, callback: RecordCallback) -> KafkaSubscription | None:
        """Add a subscription starting at the current end offsets; ``None`` if shutting down."""
        with self._lock:
            if self._closing:
                return None
            subscription = KafkaSubscription(self, key, callback, self.end_offsets())
            self._subscriptions.append(subscription)
            self._reroute()
            return subscription

    def remove(self, subscription: KafkaSubscription) -> bool:
        """Remove ``subscription``; True when it was the last one (the reader must shut down)."""
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
                self._reroute()
            if self._subscriptions or self._closing:
                return False
            self._closing = True
            return True

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the dispatch thread; it closes the consumer on its way out."""
        with self._lock:
            self._closing = True
            for subscription in self._subscriptions:
                subscription.active = False
            self._subscriptions.clear()
            self._reroute()
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    # consume() waits out its whole timeout unless a full batch arrives: wait for
                    # the first record with poll(), then take what else is already there.
                    first = self._consumer.poll(_POLL_INTERVAL_S)
                    messages = (
                        [first, *self._consumer.consume(_BATCH, 0)] if first is not None else []
                    )
                except BaseException:
                    logger.exception("error while consuming topic %r", self.topic)
                    self._stopping.wait(_POLL_INTERVAL_S)
                    continue
                if messages:
                    try:
                        self._dispatch(messages)
                    except BaseException:
                        logger.exception("error while dispatching records of %r", self.topic)
                self._admin.poll(0)  # serves the admin client's log lines
        finally:
            try:
                self._consumer.close()
            except Exception:
                logger.exception("error while closing the consumer of topic %r", self.topic)

    def _reroute(self) -> None:
        # Records of keys nobody here subscribed to are the bulk of a busy topic: index the
        # subscriptions by encoded key so those are skipped before any Python object is built.
        # Called with the lock held; the dispatch thread reads the index without it.
        catch_all = tuple(s for s in self._subscriptions if s.key is None)
        routes: dict[bytes | None, _Route] = {None: (None, catch_all, None)}
        for key in {s.key for s in self._subscriptions if s.key is not None}:
            wanted = tuple(s for s in self._subscriptions if s.key is None or s.key == key)
            claim = wanted[0].claim if len(wanted) == 1 else None
            routes[key.encode("utf-8")] = (key, wanted, claim)
        self._routes = routes

    def _dispatch(self, messages: list[Any]) -> None:
        # Read after the batch was fetched: every record in it is below the end offsets any
        # later subscription starts from, so none reaches a subscription made after it.
        routes = self._routes
        catch_all = routes[None][1] if None in routes else ()
        topic = self.topic
        for message in messages:
            raw_key = message.key()
            route = routes.get(raw_key)
            if route is not None:
                key, subscriptions, claim = route
                if claim is not None:
                    # An app's own records come back to it: most are the bulk of what it reads.
                    # The only subscriber takes them by their bytes, once past its start. (An
                    # error has no key, and the bytes of a record its subscriber published.)
                    only = subscriptions[0]
                    value = message.value()
                    if value is not None and only.active and message.partition() not in only.start:
                        try:
                            if claim(value):
                                continue
                        except Exception:
                            logger.exception("subscriber %r raised while claiming a record", only)
                            continue
            elif catch_all:
                key, subscriptions = decode_key(raw_key), catch_all
            else:
                continue  # a key no one here follows (an error has none: routed as None)
            error = message.error()
            if error is not None:
                logger.warning("consumer error on topic %r: %s", topic, error)
                continue
            if not subscriptions:
                continue
            partition, offset, value = message.partition(), message.offset(), message.value()
            record = new_record(topic, key, value, partition, offset, message.timestamp()[1])
            for subscription in subscriptions:
                if not subscription.active:
                    continue
                start = subscription.start
                if start:
                    if offset < start.get(partition, 0):
                        continue
                    # Past its start on this partition, it stays past: stop checking there.
                    start.pop(partition, None)
                try:
                    subscription.callback(record)
                except BaseException:
                    # A failing subscriber must not stop delivery to itself or the others:
                    # SystemExit or CancelledError from a callback would otherwise end this
                    # thread, and with it every subscription to the topic in the process (an
                    # app's command intake included). Signals never land here (blocked).
                    logger.exception("subscriber %r raised while handling %r", subscription, record)


_lock = threading.Lock()
_readers: dict[ReaderKey, TopicReader] = {}


def open_subscription(
    bootstrap_servers: str,
    config: Mapping[str, Any],
    topic: str,
    key: str | None,
    callback: RecordCallback,
) -> KafkaSubscription:
    """Subscribe ``callback`` to ``key``'s records (all if ``None``) on ``topic`` from now on."""
    reader_key: ReaderKey = (config_key(bootstrap_servers, config), topic)
    while True:
        with _lock:
            reader = _readers.get(reader_key)
            if reader is None:
                reader = _readers[reader_key] = TopicReader(
                    reader_key, bootstrap_servers, config, topic
                )
        subscription = reader.add(key, callback)
        if subscription is not None:
            return subscription
        _forget(reader)  # it is shutting down: make a fresh one


def _forget(reader: TopicReader) -> None:
    with _lock:
        if _readers.get(reader.key) is reader:
            del _readers[reader.key]


def reset_readers() -> None:
    """Stop every topic reader and its subscriptions (tests use this for a clean process)."""
    with _lock:
        readers = list(_readers.values())
        _readers.clear()
    for reader in readers:
        reader.shutdown()


def reader_count() -> int:
    """Number of live topic readers (for tests and diagnostics)."""
    with _lock:
        return len(_readers)
