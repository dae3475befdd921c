"""A real-protocol Kafka cluster on loopback, in this process: librdkafka's mock cluster.

``LoopbackKafka`` speaks the Kafka wire protocol on ``127.0.0.1`` with no JVM and no Docker,
so the production ``KafkaTransport`` can be tested for real. Limits of the mock cluster
(librdkafka 2.x): it has no controller for admin CreateTopics, so topics are created by
metadata auto-creation and always get the mock cluster's default of 4 partitions; it holds
records in memory only and vanishes with ``stop()``. It cannot be paused or restarted:
confluent-kafka has no call for the mock cluster's broker faults (librdkafka's
``rd_kafka_mock_broker_set_down`` is C API only, on a handle Python does not expose), and a
``start()`` after ``stop()`` is a new, empty cluster on new ports. ``stop()`` with clients still
connected is the one broker fault it offers (connections refused from then on); for pause,
kill and restart on the same port use ``TansuBroker``, a broker in a process of its own.

``python -m openfactory.testing.loopback`` starts one, prints its bootstrap address and
runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import sys
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from openfactory import _clock
from openfactory.errors import ConfigurationError, TransportError
from openfactory.kafka.clients import to_record
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback._running import run_until_signalled
from openfactory.transport import Record

logger = logging.getLogger("openfactory.testing.loopback")
_librdkafka_logger = logging.getLogger("openfactory.testing.loopback.librdkafka")

MOCK_DEFAULT_PARTITIONS = 4


class LoopbackKafka(Rig):
    """An in-process mock Kafka cluster on 127.0.0.1; use as a context manager or call
    ``start()``/``stop()``. ``bootstrap_servers`` is its address."""

    __test__ = False

    def __init__(self, brokers: int = 1, round_trip_ms: int = 0) -> None:
        """Prepare a cluster of ``brokers`` brokers answering after ``round_trip_ms`` ms (as a
        broker across a network would; 0, the default, answers at once).

        Raises ``ConfigurationError`` if ``brokers`` < 1 or ``round_trip_ms`` < 0.
        """
        if not isinstance(brokers, int) or isinstance(brokers, bool) or brokers < 1:
            raise ConfigurationError(f"brokers must be an int >= 1, got {brokers!r}")
        if (
            not isinstance(round_trip_ms, int)
            or isinstance(round_trip_ms, bool)
            or round_trip_ms < 0
        ):
            raise ConfigurationError(f"round_trip_ms must be an int >= 0, got {round_trip_ms!r}")
        self.brokers = brokers
        self.round_trip_ms = round_trip_ms
        self._owner: Producer | None = None
        self._bootstrap: str | None = None

    def start(self, timeout: float = 10.0) -> LoopbackKafka:
        """Start the cluster (no-op if running); raises ``TransportError`` if it cannot."""
        if self._owner is not None:
            return self
        # The cluster lives inside this client handle and dies with it.
        settings = {
            "test.mock.num.brokers": self.brokers,
            "logger": _librdkafka_logger,
            "log_level": 4,
        }
        if self.round_trip_ms:
            settings["test.mock.broker.rtt"] = self.round_trip_ms
        owner = Producer(settings)
        try:
            metadata = owner.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise TransportError(f"the loopback Kafka cluster did not start: {exc}") from exc
        addresses = sorted(f"{b.host}:{b.port}" for b in metadata.brokers.values())
        self._owner, self._bootstrap = owner, ",".join(addresses)
        logger.info("loopback Kafka cluster running at %s", self._bootstrap)
        return self

    @property
    def bootstrap_servers(self) -> str:
        """``host:port[,...]`` of the running cluster; raises ``TransportError`` if stopped."""
        if self._bootstrap is None:
            raise TransportError("the loopback Kafka cluster is not running: call start() first")
        return self._bootstrap

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._owner is not None

    def create_topic(self, name: str, partitions: int = 1, timeout: float = 10.0) -> int:
        """Create ``name`` (no-op if it exists) and return its partition count.

        The mock cluster ignores ``partitions``: it always gives
        ``MOCK_DEFAULT_PARTITIONS``. Raises ``ConfigurationError`` or ``TransportError``.
        """
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"topic name must be a non-empty string, got {name!r}")
        if not isinstance(partitions, int) or partitions < 1:
            raise ConfigurationError(f"partitions must be an int >= 1, got {partitions!r}")
        return len(self._partitions(name, timeout))

    def _partitions(self, topic: str, timeout: float) -> list[int]:
        owner = self._require_running()
        deadline = _clock.monotonic() + timeout
        while True:
            try:
                # A producer's metadata request auto-creates the topic on the mock cluster.
                held = owner.list_topics(topic, timeout=timeout).topics.get(topic)
            except KafkaException as exc:
                raise TransportError(f"cannot create topic {topic!r}: {exc}") from exc
            if held is not None and held.error is None and held.partitions:
                return sorted(held.partitions)
            if _clock.monotonic() >= deadline:
                raise TransportError(f"topic {topic!r} was not created within {timeout}s")
            _clock.sleep(0.02)  # creation has no event to wait on

    def consume_all(self, topic: str, timeout: float = 5.0) -> list[Record]:
        """Every record on ``topic`` up to its current end, in (partition, offset) order.

        Raises ``TransportError`` if they cannot all be read within ``timeout`` seconds.
        """
        partitions = self._partitions(topic, timeout)
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": f"loopback-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 10,
                "logger": _librdkafka_logger,
            }
        )
        try:
            wanted: dict[int, int] = {}
            for partition in partitions:
                _, end = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout, cached=False
                )
                if end:
                    wanted[partition] = int(end)
            consumer.assign([TopicPartition(topic, p, 0) for p in wanted])
            records: list[Record] = []
            deadline = _clock.monotonic() + timeout
            while wanted:
                if _clock.monotonic() >= deadline:
                    raise TransportError(
                        f"read {len(records)} records of {topic!r} in {timeout}s; "
                        f"partitions {sorted(wanted)} unfinished"
                    )
                # consume() waits out its timeout unless the whole batch is there: poll for one
                # record, then take what else librdkafka has already fetched.
                first = consumer.poll(0.05)
                for message in [first, *consumer.consume(500, 0)] if first is not None else []:
                    if message.error() is not None:
                        continue
                    at, offset = message.partition(), message.offset()
                    if at is None or offset is None:
                        continue
                    if at in wanted and offset < wanted[at]:
                        records.append(to_record(message))
                        if offset + 1 >= wanted[at]:
                            del wanted[at]
            return sorted(records, key=lambda r: (r.partition, r.offset))
        except KafkaException as exc:
            raise TransportError(f"cannot read topic {topic!r}: {exc}") from exc
        finally:
            consumer.close()

    def stop(self) -> None:
        """Shut the cluster down (idempotent); clients still connected see it disappear."""
        owner, self._owner, self._bootstrap = self._owner, None, None
        if owner is not None:
            closer = getattr(owner, "close", None)
            if callable(closer):
                closer()
            del owner
            logger.info("loopback Kafka cluster stopped")

    def _require_running(self) -> Producer:
        if self._owner is None:
            raise TransportError("the loopback Kafka cluster is not running: call start() first")
        return self._owner

    def __repr__(self) -> str:
        return f"LoopbackKafka({self._bootstrap or 'stopped'})"


def main() -> int:
    """Run a loopback cluster until SIGINT/SIGTERM, printing its bootstrap address."""
    return run_until_signalled(LoopbackKafka(), lambda cluster: cluster.bootstrap_servers)


if __name__ == "__main__":
    sys.exit(main())
