"""A Kafka consumer read on a thread of its own, knowing how far it got: what the mirror and the
forwarder run, each with its own handling of the records."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from openfactory._threads import start_background_thread
from openfactory.errors import TransportError
from openfactory.kafka.clients import consumer_config

_POLL_S = 0.02
_BATCH = 500

#: Chooses what to read: the consumer's partitions with the offsets to start at.
Assign = Callable[[Consumer], list[TopicPartition]]
#: Handles a batch of consumed messages (none of them an error); returns how many it counts.
Handle = Callable[[list[Message]], int]


class ConsumerLoop:
    """Reads the partitions ``assign`` chooses with a consumer of a group of its own (committing
    nothing) and hands every batch to ``handle`` on a background thread named ``name``.

    ``handled`` sums what ``handle`` returned; ``sync()`` waits until every partition was read up
    to the end it has when asked. Progress is counted after ``handle`` returns, so what
    ``sync()`` waits for has been handled.
    """

    def __init__(self, bootstrap_servers: str, name: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.name = name
        self.handled = 0
        self._next: dict[tuple[str, int], int] = {}
        self._progress = threading.Condition()
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True between a ``start()`` that returned and ``stop()``."""
        return self._thread is not None

    def start(self, assign: Assign, handle: Handle) -> None:
        """Make the consumer, assign it what ``assign`` returns, and start reading (a no-op if
        running). Raises ``KafkaException``, or what ``assign`` raises, with the consumer
        closed again."""
        if self._thread is not None:
            return
        config = consumer_config(self.bootstrap_servers, {})
        config.update({"group.id": f"{self.name}-{uuid.uuid4()}", "enable.auto.commit": False})
        consumer = self._consumer = Consumer(config)
        try:
            assignment = assign(consumer)
            consumer.assign(assignment)
        except BaseException:
            self.stop()
            raise
        with self._progress:
            self._next = {(tp.topic, tp.partition): tp.offset for tp in assignment}
        self._stop.clear()
        self._thread = start_background_thread(self._run, name=self.name, args=(consumer, handle))

    def _run(self, consumer: Consumer, handle: Handle) -> None:
        while not self._stop.is_set():
            # consume() waits out its timeout unless the whole batch is there: poll for one
            # message, then take what else librdkafka has already fetched.
            first = consumer.poll(_POLL_S)
            if first is None:
                continue
            messages = [m for m in [first, *consumer.consume(_BATCH, 0)] if m.error() is None]
            progress: dict[tuple[str, int], int] = {}
            for message in messages:
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                if topic is not None and partition is not None and offset is not None:
                    progress[(topic, partition)] = offset + 1
            counted = handle(messages) if messages else 0
            with self._progress:
                self.handled += counted
                self._next.update(progress)
                self._progress.notify_all()

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until every assigned partition has been read (and handled) up to its end now;
        False after ``timeout`` seconds. Raises ``TransportError`` if Kafka cannot say where
        the ends are."""
        # A consumer of its own: watermarks asked on the reading one would wait behind it.
        probe = Consumer(
            consumer_config(self.bootstrap_servers, {"group.id": f"{self.name}-probe"})
        )
        with self._progress:
            assigned = list(self._next)
        try:
            ends = {
                (topic, partition): probe.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout
                )[1]
                for topic, partition in assigned
            }
        except KafkaException as exc:
            topics = sorted({topic for topic, _ in assigned})
            raise TransportError(f"cannot read the end of {', '.join(topics)}: {exc}") from exc
        finally:
            probe.close()
        with self._progress:
            return self._progress.wait_for(
                lambda: all(self._next.get(at, 0) >= end for at, end in ends.items()), timeout
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading (waiting at most ``timeout`` seconds for the thread) and close the
        consumer (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
