"""The production transport: Kafka through confluent-kafka, ksqlDB through a ``KSQLDBClient``."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from typing_extensions import override

from openfactory import _clock
from openfactory.errors import ConfigurationError, TransportError
from openfactory.kafka._clients import logger, to_record, translate, validate_config
from openfactory.kafka._commands import COMMAND_MARK, is_command
from openfactory.kafka._consumer import KafkaSubscription, open_subscription, reset_readers
from openfactory.kafka._producer import (
    SharedProducer,
    acquire_producer,
    is_fatal,
    release_producer,
    reset_producers,
)
from openfactory.transport import (
    KSQLDB,
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    Record,
    RecordCallback,
    Subscription,
    Transport,
    check_publish,
    check_subscribe,
)

_find = bytes.find

# What a ksqlDB client must provide, for the error that names what one lacks.
_KSQLDB_METHODS = tuple(
    sorted(name for name, member in vars(KSQLDB).items() if callable(member) and name[0] != "_")
)


class KafkaTransport(Transport):
    """Publish and subscribe on a Kafka cluster; resolve topics and query through ksqlDB.

    Every transport of the process on the same ``bootstrap_servers`` (and ``config``) shares
    one producer, and one consumer per topic. ``config`` holds extra librdkafka properties
    (security, timeouts...) applied to the producer and consumers.
    """

    #: How long ``publish`` waits for room when the local producer queue is full.
    queue_full_timeout: float = 5.0

    def __init__(
        self,
        bootstrap_servers: str,
        ksql_client: KSQLDB,
        *,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """Connect to ``bootstrap_servers``, naming topics and querying through ``ksql_client``.

        Raises ``ConfigurationError`` on bad arguments: a ``ksql_client`` that is not a
        ``KSQLDB`` (an ``openfactory.kafka.KSQLDBClient``, or anything with its methods).
        """
        super().__init__()
        self._closed = False
        self._config = validate_config(bootstrap_servers, config)
        if not isinstance(ksql_client, KSQLDB):
            missing = [m for m in _KSQLDB_METHODS if not callable(getattr(ksql_client, m, None))]
            raise ConfigurationError(
                f"ksql_client must be a ksqlDB client (openfactory.transport.KSQLDB: "
                f"{', '.join(_KSQLDB_METHODS)}), got {type(ksql_client).__name__} lacking "
                f"{', '.join(missing)}: pass an openfactory.kafka.KSQLDBClient(url)"
            )
        self.bootstrap_servers = bootstrap_servers.strip()
        self.ksql_client = ksql_client
        self._shared = acquire_producer(self.bootstrap_servers, self._config)
        on_delivery = self._on_delivery

        # Built once, and a single frame that returns at once on success: the producer's
        # poller calls it for every record delivered.
        def report_failure(error: Any, message: Any) -> None:
            if error is not None:
                on_delivery(None, error, message)

        self._report_failure = report_failure
        self._released = False
        self._published = 0
        self._noted_key: str | None = None
        self._noted_generation = -1
        self._subscriptions: list[KafkaSubscription] = []
        self._lock = threading.Lock()

    @override
    def _resolve_topic(self, name: str) -> str:
        if not isinstance(name, str) or not name:
            raise TransportError(f"stream or table name must be a non-empty string, got {name!r}")
        return str(self.ksql_client.get_kafka_topic(name))

    @override
    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a ksqlDB pull query through the ksqlDB client; raises ``KSQLDBError``."""
        return list(self.ksql_client.query(sql))

    @override
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue one record (``value=None`` for a tombstone); raises ``TransportError``."""
        # Every attribute update comes here: its case (bytes, no callback, no command) runs in
        # this one frame; anything else takes the checked path. The bytes search is find(), not
        # "in": bytes.__contains__ first tries the needle as an int and clears the TypeError.
        if (
            on_delivery is not None
            or type(value) is not bytes
            or type(key) is not str
            or type(topic) is not str
            or not topic
            or self._closed
            or _find(value, COMMAND_MARK) >= 0
        ):
            self._publish_checked(topic, key, value, on_delivery)
            return
        shared = self._shared
        producer = shared.producer
        try:
            # -1: the partitioner's choice of partition.
            producer.produce(topic, value, key, -1, self._report_failure)
        except (BufferError, KafkaException, RuntimeError) as exc:
            producer = self._produce_again(exc, producer, topic, key, value, self._report_failure)
        if key is not self._noted_key or self._noted_generation != shared.generation:
            self._note(key, shared)
        self._published += 1
        if self._published & 63:
            # Delivery reports are served by the producer's poller thread; serving them here
            # too, after every record, would hand the GIL to other threads on each publish.
            return
        self._serve_reports(producer)

    def _publish_checked(
        self, topic: str, key: str, value: bytes | None, on_delivery: DeliveryCallback | None
    ) -> None:
        """``publish`` of anything but a plain attribute record: checked arguments, a delivery
        callback of the caller's, a command (sent at once), a tombstone."""
        value = check_publish(topic, key, value, on_delivery, self._closed)
        callback = (
            self._report_failure if on_delivery is None else partial(self._on_delivery, on_delivery)
        )
        shared = self._shared
        command = is_command(value)
        if command and self._send_command(topic, key, value, callback):
            return
        producer = shared.producer
        try:
            producer.produce(topic, value, key, -1, callback)
        except (BufferError, KafkaException, RuntimeError) as exc:
            producer = self._produce_again(exc, producer, topic, key, value, callback)
        if key is not self._noted_key or self._noted_generation != shared.generation:
            self._note(key, shared)
        if command:
            shared.nudge()  # it follows records of its key: on the shared producer, sent now
        self._published += 1
        if not self._published & 63:
            self._serve_reports(producer)

    def _produce_again(
        self,
        exc: Exception,
        producer: Any,
        topic: str,
        key: str,
        value: bytes | None,
        callback: Any,
    ) -> Any:
        """Queue the record ``producer.produce`` refused with ``exc``, if it can be; returns the
        producer that took it. Raises ``TransportError`` when it cannot."""
        if isinstance(exc, BufferError):
            return self._produce_when_room(topic, key, value, callback)
        if isinstance(exc, KafkaException):
            if not is_fatal(exc):
                raise translate(exc, f"cannot publish to {topic!r} for key {key!r}") from exc
            # Dead for good (e.g. its producer id unknown to a broker that lost its state):
            # a new producer, and this record on it.
            producer = self._shared.renew(producer, f"fatal error: {exc.args[0].str()}")
            try:
                producer.produce(topic, value, key, on_delivery=callback)
            except (BufferError, KafkaException) as again:
                raise translate(again, f"cannot publish to {topic!r} for key {key!r}") from exc
            return producer
        # RuntimeError: the shared producer was closed by a concurrent close().
        raise translate(exc, f"cannot publish to {topic!r} for key {key!r}") from exc

    def _note(self, key: str, shared: SharedProducer) -> None:
        # Which keys the shared producer holds, for commands (_send_command); noted again only
        # when the key changes or the producer was seen empty since.
        generation = shared.generation
        shared.lingering[key] = None
        self._noted_key, self._noted_generation = key, generation

    def _serve_reports(self, producer: Any) -> None:
        try:
            producer.poll(0)
        except KafkaException as exc:
            # Serving reports is also where a producer reports its own fatal error.
            if not is_fatal(exc):
                raise translate(exc, "cannot serve Kafka delivery reports") from exc
            self._shared.renew(producer, f"fatal error: {exc.args[0].str()}")

    def _send_command(self, topic: str, key: str, value: bytes | None, callback: Any) -> bool:
        """Send a command record at once through the command lane (see ``_commands.py``);
        False when it must go through the shared producer instead: records of its key are
        queued there, or the lane cannot take it now."""
        shared = self._shared
        if key in shared.lingering and len(shared.producer):
            return False
        try:
            lane = shared.commands.ready()
            if lane is None:
                return False  # made just now: for a moment still slower than a nudge
            lane.produce(topic, value, key, on_delivery=callback)
            lane.poll(0)
        except (BufferError, KafkaException, ConfigurationError) as exc:
            logger.warning("command for key %r sent with the attribute records: %s", key, exc)
            return False
        return True

    def _produce_when_room(self, topic: str, key: str, value: bytes | None, callback: Any) -> Any:
        deadline = _clock.monotonic() + self.queue_full_timeout
        while True:
            # Serving delivery reports is what frees room in librdkafka's queue.
            producer = self._shared.producer
            producer.poll(0.05)
            try:
                producer.produce(topic, value, key, on_delivery=callback)
                return producer
            except BufferError as exc:
                if _clock.monotonic() >= deadline:
                    raise TransportError(
                        f"cannot publish to {topic!r} for key {key!r}: the producer queue "
                        f"({len(producer)} records) stayed full for "
                        f"{self.queue_full_timeout}s; is the broker at "
                        f"{self.bootstrap_servers!r} reachable?"
                    ) from exc
            except KafkaException as exc:
                raise translate(exc, f"cannot publish to {topic!r} for key {key!r}") from exc

    def _on_delivery(self, on_delivery: DeliveryCallback | None, error: Any, message: Any) -> None:
        if error is None and on_delivery is None:
            return
        try:
            if error is None:
                self._report(DeliveryReport(to_record(message)), on_delivery)
            else:
                reason = f"{error.str()} ({error.name()})"
                if error.code() == KafkaError.PRODUCER_FENCED:
                    # A fenced producer is refused every record from now on: replace it.
                    self._shared.mark_broken(self._shared.producer, reason)
                self._report(DeliveryReport(_undelivered(message), reason), on_delivery)
        except Exception:
            # Raised here it would surface in whichever thread polled the producer.
            logger.exception("delivery callback %r raised", on_delivery)

    def pending(self) -> int:
        """Records queued in the shared producer (of every transport using it) not yet delivered."""
        shared = self._shared
        return 0 if self._released else len(shared.producer) + len(shared.commands)

    @override
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """Deliver every record of ``key`` (all if ``None``) published on ``topic`` from now on.

        Callbacks run on the topic's consumer thread. Raises ``TransportError``.
        """
        check_subscribe(topic, key, callback, self._closed)
        subscription = open_subscription(self.bootstrap_servers, self._config, topic, key, callback)
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s.active]
            self._subscriptions.append(subscription)
        return subscription

    @override
    def flush(self, timeout: float = 10.0) -> FlushResult:
        """Wait up to ``timeout`` s for this transport's records to be delivered."""
        if self._released:
            return self._flush_result(0)
        try:
            undelivered = self._shared.flush(max(timeout, 0.0))
        except KafkaException as exc:
            raise translate(exc, "cannot flush the Kafka producer") from exc
        return self._flush_result(undelivered)

    @override
    def close(self) -> None:
        """Flush, stop this transport's subscriptions, release the shared clients (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        # One deadline for both waits below: close takes close_timeout in all.
        deadline = _clock.monotonic() + self.close_timeout
        result = self.flush(self.close_timeout)
        if result.undelivered:
            logger.error(
                "Kafka transport closed with %d record(s) undelivered after %ss",
                result.undelivered,
                self.close_timeout,
            )
        for subscription in subscriptions:
            subscription.stop()
        self._released = True
        release_producer(self._shared, max(deadline - _clock.monotonic(), 0.0))

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"KafkaTransport({self.bootstrap_servers!r}, {state})"


def _undelivered(message: Any) -> Record:
    key = message.key()
    return Record(
        message.topic(),
        key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key,
        message.value(),
        message.partition(),
    )


def reset_kafka_clients() -> None:
    """Close every shared Kafka producer and consumer of the process (for test isolation)."""
    reset_readers()
    reset_producers()
