"""``KafkaMirror``: copy Kafka topics into a ``FakeBroker``, so a ``FakeKSQLDB`` (and its HTTP
server) materializes the OpenFactory tables from a real cluster, as ksqlDB would."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError, TransportError
from openfactory.kafka.clients import admin_config, consumer_config, to_record, topic_partitions
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.memory import CATALOG_TOPICS, FakeBroker

_POLL_S = 0.02


class KafkaMirror(Rig):
    """Copies every record of ``topics`` (from the earliest offset) into ``broker``.

    ``topics`` defaults to the topics behind the OpenFactory streams and tables. Raises
    ``TransportError`` when the cluster cannot be read, ``ConfigurationError`` on bad arguments.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        broker: FakeBroker | None = None,
        topics: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(bootstrap_servers, str) or not bootstrap_servers.strip():
            raise ConfigurationError(
                f"bootstrap_servers must be 'host:port', got {bootstrap_servers!r}"
            )
        self.bootstrap_servers = bootstrap_servers.strip()
        self.broker = broker if broker is not None else FakeBroker()
        self.topics = tuple(CATALOG_TOPICS.values() if topics is None else topics)
        if not self.topics or not all(isinstance(t, str) and t for t in self.topics):
            raise ConfigurationError(f"topics must be non-empty strings, got {self.topics!r}")
        self.copied = 0
        self._next: dict[tuple[str, int], int] = {}
        self._progress = threading.Condition()
        self._assignment: list[TopicPartition] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: Consumer | None = None

    def start(self) -> KafkaMirror:
        """Assign every partition of the topics (creating missing topics) and start copying."""
        config = consumer_config(self.bootstrap_servers, {})
        config.update({"group.id": f"ofa-mirror-{uuid.uuid4()}", "enable.auto.commit": False})
        consumer = Consumer(config)
        try:
            assignment = [
                TopicPartition(topic, partition, 0)
                for topic in self.topics
                for partition in topic_partitions(
                    consumer, topic, admin_config(self.bootstrap_servers, {})
                )
            ]
            consumer.assign(assignment)
            self._assignment = assignment
        except (KafkaException, TransportError) as exc:
            consumer.close()
            raise TransportError(
                f"cannot mirror {self.topics} from {self.bootstrap_servers}: {exc}"
            ) from exc
        self._consumer = consumer
        self._thread = start_background_thread(self._copy, name="ofa-kafka-mirror")
        return self

    def _copy(self) -> None:
        assert self._consumer is not None
        while not self._stop.is_set():
            for message in self._consumer.consume(500, _POLL_S):
                if message.error() is None:
                    record = to_record(message)
                    self.broker.produce(record.topic, record.key, record.value)
                    with self._progress:
                        self.copied += 1
                        self._next[(record.topic, record.partition)] = record.offset + 1
                        self._progress.notify_all()

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until everything on the topics now has been copied; False after ``timeout``."""
        # A consumer of its own: reading watermarks on the copying one would block behind it.
        probe = Consumer(consumer_config(self.bootstrap_servers, {"group.id": "ofa-mirror-probe"}))
        try:
            ends = {
                (tp.topic, tp.partition): probe.get_watermark_offsets(tp, timeout=timeout)[1]
                for tp in self._assignment
            }
        except KafkaException as exc:
            raise TransportError(f"cannot read the end of {self.topics}: {exc}") from exc
        finally:
            probe.close()
        with self._progress:
            return self._progress.wait_for(
                lambda: all(self._next.get(at, 0) >= end for at, end in ends.items()), timeout
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop copying and close the consumer (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
