"""Where the two loopback brokers answer the Kafka protocol differently, shown with plain clients.

Each check is what Apache Kafka does; where Tansu does otherwise the check is a strict xfail, so
the day Tansu changes, this fails and the README's "Brokers we test against" needs updating.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from openfactory.testing.loopback import LoopbackKafka, TansuBroker

TIMEOUT = 10.0
Broker = LoopbackKafka | TansuBroker


@pytest.fixture(params=["mock", "tansu"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """Each loopback broker (the session's: these checks change nothing but their own topic)."""
    yield request.getfixturevalue("ofa_loopback_kafka" if request.param == "mock" else "ofa_tansu")


def tansu_differs(request: pytest.FixtureRequest, broker: Broker, reason: str) -> None:
    if isinstance(broker, TansuBroker):
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


def one_partition_with(broker: Broker, count: int) -> str:
    """A new topic whose partition 0 holds ``count`` records, sent as one batch."""
    topic = f"differences-{uuid.uuid4().hex[:12]}"
    broker.create_topic(topic)
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50})
    for n in range(count):
        producer.produce(topic, b"%d" % n, partition=0)
    assert producer.flush(TIMEOUT) == 0
    return topic


def test_the_end_offset_follows_the_last_record(
    broker: Broker, request: pytest.FixtureRequest
) -> None:
    tansu_differs(request, broker, "Tansu answers the last batch's base offset + 1")
    topic = one_partition_with(broker, 10)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap_servers})
    wanted = {TopicPartition(topic, 0): OffsetSpec.latest()}
    (future,) = admin.list_offsets(wanted, request_timeout=TIMEOUT).values()
    assert future.result().offset == 10


def test_a_fetch_past_the_end_is_answered_out_of_range(
    broker: Broker, request: pytest.FixtureRequest
) -> None:
    tansu_differs(request, broker, "Tansu answers a fetch past the end with no records, no error")
    topic = one_partition_with(broker, 3)
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap_servers,
            "group.id": f"differences-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    try:
        # Past the end, as a reader is after a broker lost its log: Kafka says out of range
        # and the consumer starts over from auto.offset.reset, reaching the partition's end.
        consumer.assign([TopicPartition(topic, 0, 50)])
        values = []
        for _ in range(50):  # 5 s: the mock cluster answers within 2 s
            message = consumer.poll(0.1)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                break
            if error is None:
                values.append(message.value())
        assert values == [b"0", b"1", b"2"]
    finally:
        consumer.close()
