"""``KafkaMirror``: copy Kafka topics into a ``FakeBroker``, so a ``FakeKSQLDB`` (and its HTTP
server) materializes the OpenFactory tables from a real cluster, as ksqlDB would."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from openfactory.errors import ConfigurationError, TransportError
from openfactory.kafka.clients import admin_config, to_record, topic_partitions
from openfactory.testing.loopback._consumer_loop import ConsumerLoop
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.memory import CATALOG_TOPICS, FakeBroker


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
        self._reader = ConsumerLoop(self.bootstrap_servers, "ofa-kafka-mirror")

    @property
    def copied(self) -> int:
        """Records copied into ``broker`` so far."""
        return self._reader.handled

    def start(self) -> KafkaMirror:
        """Assign every partition of the topics (creating missing topics) and start copying."""
        try:
            self._reader.start(self._from_start, self._copy)
        except (KafkaException, TransportError) as exc:
            raise TransportError(
                f"cannot mirror {self.topics} from {self.bootstrap_servers}: {exc}"
            ) from exc
        return self

    def _from_start(self, consumer: Consumer) -> list[TopicPartition]:
        admin = admin_config(self.bootstrap_servers, {})
        return [
            TopicPartition(topic, partition, 0)
            for topic in self.topics
            for partition in topic_partitions(consumer, topic, admin)
        ]

    def _copy(self, messages: list[Message]) -> int:
        for message in messages:
            record = to_record(message)
            self.broker.produce(record.topic, record.key, record.value)
        return len(messages)

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until everything on the topics now has been copied; False after ``timeout``."""
        return self._reader.sync(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop copying and close the consumer (idempotent)."""
        self._reader.stop(timeout)
