"""The consumer loop under the loopback mirror and forwarder: what it reads, when ``sync()`` says
it caught up, and how it starts again (the rigs' own tests pin what they do with the records)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition

from openfactory.errors import TransportError
from openfactory.testing.loopback._consumer_loop import ConsumerLoop
from openfactory.testing.loopback.kafka import LoopbackKafka


@pytest.fixture(scope="module")
def kafka():
    with LoopbackKafka() as cluster:
        yield cluster


def produce(cluster: LoopbackKafka, topic: str, *values: bytes) -> None:
    quiet = logging.getLogger("tests.consumer_loop.librdkafka")
    producer = Producer({"bootstrap.servers": cluster.bootstrap_servers, "logger": quiet})
    for value in values:
        producer.produce(topic, value=value, partition=0)
    assert producer.flush(10) == 0


def from_start(topic: str) -> Callable[[Consumer], list[TopicPartition]]:
    return lambda consumer: [TopicPartition(topic, 0, 0)]


def test_reads_from_the_offsets_assigned_and_sync_waits_for_the_handler(
    kafka: LoopbackKafka,
) -> None:
    produce(kafka, "loop-a", b"before the start")
    produce(kafka, "loop-b", b"b0")
    seen: list[bytes | None] = []

    def handle(messages: list[Message]) -> int:
        seen.extend(m.value() for m in messages)
        return sum(1 for m in messages if m.value())  # what the handler counts, not messages

    def a_at_end_b_from_start(consumer: Consumer) -> list[TopicPartition]:
        _, end = consumer.get_watermark_offsets(
            TopicPartition("loop-a", 0), timeout=10, cached=False
        )
        return [TopicPartition("loop-a", 0, end), TopicPartition("loop-b", 0, 0)]

    loop = ConsumerLoop(kafka.bootstrap_servers, "test-consumer-loop")
    assert loop.sync(1)  # nothing assigned: nothing to wait for
    loop.start(a_at_end_b_from_start, handle)
    try:
        produce(kafka, "loop-a", b"a1", b"")
        produce(kafka, "loop-b", b"b1")
        assert loop.sync(10)
        assert sorted(v or b"" for v in seen) == [b"", b"a1", b"b0", b"b1"]
        assert loop.handled == 3
    finally:
        loop.stop()


def test_a_failed_start_leaves_it_stopped_and_a_stopped_loop_starts_again(
    kafka: LoopbackKafka,
) -> None:
    def refuse(consumer: Consumer) -> list[TopicPartition]:
        raise TransportError("no partitions for you")

    def count(messages: list[Message]) -> int:
        return len(messages)

    loop = ConsumerLoop(kafka.bootstrap_servers, "test-consumer-loop")
    with pytest.raises(TransportError, match="no partitions for you"):
        loop.start(refuse, count)
    assert not loop.running
    produce(kafka, "loop-c", b"1")
    loop.start(from_start("loop-c"), count)
    try:
        loop.start(refuse, count)  # running: a no-op, not a second consumer
        assert loop.running and loop.sync(10) and loop.handled == 1
    finally:
        loop.stop()
        loop.stop()
    assert not loop.running
    produce(kafka, "loop-c", b"2")
    loop.start(from_start("loop-c"), count)
    try:
        assert loop.sync(10) and loop.handled == 1 + 2  # read again from offset 0
    finally:
        loop.stop()
