"""Topics of a broker created and read with plain clients, relying only on what every
Kafka-compatible broker answers correctly here: CreateTopics, metadata and fetch responses."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from openfactory import _clock
from openfactory.errors import TransportError
from openfactory.kafka.clients import to_record
from openfactory.transport import Record

librdkafka_logger = logging.getLogger("openfactory.testing.loopback.librdkafka")


def admin_client(bootstrap_servers: str) -> AdminClient:
    """An admin client logging through ``openfactory.testing.loopback.librdkafka``."""
    settings: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, "logger": librdkafka_logger}
    return AdminClient(settings)


def partitions_of(bootstrap_servers: str, topic: str, timeout: float) -> list[int]:
    """Partition ids of ``topic``, ``[]`` if it does not exist; raises ``TransportError``."""
    try:
        held = admin_client(bootstrap_servers).list_topics(topic, timeout=timeout).topics.get(topic)
    except KafkaException as exc:
        raise TransportError(f"cannot read metadata of topic {topic!r}: {exc}") from exc
    if held is None or held.error is not None:
        return []
    return sorted(held.partitions)


def create_topic(bootstrap_servers: str, name: str, partitions: int, timeout: float) -> int:
    """Create ``name`` (no-op if it exists) and return its partition count."""
    admin = admin_client(bootstrap_servers)  # held: a destroyed client fails its futures
    future = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1)],
        request_timeout=timeout,
    )[name]
    try:
        future.result(timeout)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if not (isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS):
            raise TransportError(f"cannot create topic {name!r}: {exc}") from exc
    held = partitions_of(bootstrap_servers, name, timeout)
    if not held:
        raise TransportError(f"topic {name!r} has no partitions after being created")
    return len(held)


def read_to_end(bootstrap_servers: str, topic: str, timeout: float) -> list[Record]:
    """Every record of ``topic`` up to its current end, in (partition, offset) order."""
    partitions = partitions_of(bootstrap_servers, topic, timeout)
    if not partitions:
        return []
    # The end of each partition is taken from fetch responses (partition EOF): Tansu answers
    # ListOffsets with a wrong end offset after a batch of several records (README).
    settings: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": f"loopback-reader-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 10,
        "logger": librdkafka_logger,
    }
    consumer = Consumer(settings)
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        unfinished, records = set(partitions), list[Record]()
        deadline = _clock.monotonic() + timeout
        while unfinished:
            if _clock.monotonic() >= deadline:
                raise TransportError(
                    f"read {len(records)} records of {topic!r} in {timeout}s; "
                    f"partitions {sorted(unfinished)} unfinished"
                )
            message = consumer.poll(0.05)
            if message is None:
                continue
            error = message.error()
            if error is None:
                records.append(to_record(message))
            elif error.code() == KafkaError._PARTITION_EOF:
                unfinished.discard(message.partition())
            else:
                raise TransportError(f"cannot read topic {topic!r}: {error}")
        return sorted(records, key=lambda r: (r.partition, r.offset))
    except KafkaException as exc:
        raise TransportError(f"cannot read topic {topic!r}: {exc}") from exc
    finally:
        consumer.close()
