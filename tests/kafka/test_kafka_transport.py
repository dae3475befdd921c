"""What only the Kafka transport does: shared clients, delivery failures, a full queue."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from record_collector import Collector

from openfactory.errors import ConfigurationError, TransportError
from openfactory.kafka._consumer import reader_count
from openfactory.kafka._producer import producer_count
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.transport import DeliveryReport, Record


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackKafka]:
    with LoopbackKafka() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_clients() -> Iterator[None]:
    yield
    reset_kafka_clients()


@pytest.fixture
def topic() -> str:
    return f"kafka-{uuid.uuid4().hex[:12]}"


def open_transport(cluster: LoopbackKafka, **config: object) -> KafkaTransport:
    return KafkaTransport(cluster.bootstrap_servers, FakeKSQLDB(), config=config or None)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_transports_share_one_producer_released_by_the_last(cluster: LoopbackKafka) -> None:
    first, second = open_transport(cluster), open_transport(cluster)
    assert producer_count() == 1
    first.close()
    assert producer_count() == 1
    cluster.create_topic("shared-producer")
    second.publish("shared-producer", "k", b"still works")
    assert second.flush(5).ok
    second.close()
    assert producer_count() == 0


def test_one_consumer_per_topic_across_transports(cluster: LoopbackKafka, topic: str) -> None:
    first, second = open_transport(cluster), open_transport(cluster)
    a, b = Collector(), Collector()
    sub_a = first.subscribe(topic, "k", a)
    sub_b = second.subscribe(topic, "k", b)
    assert reader_count() == 1
    first.publish(topic, "k", b"x")
    assert [r.value for r in a.wait_count(1)] == [b"x"]
    assert [r.value for r in b.wait_count(1)] == [b"x"]
    sub_a.stop()
    assert reader_count() == 1
    sub_b.stop()
    assert reader_count() == 0
    first.close()
    second.close()


def test_many_records_keep_per_key_order_and_none_is_lost(
    cluster: LoopbackKafka, topic: str
) -> None:
    transport = open_transport(cluster)
    inbox = Collector()
    transport.subscribe(topic, None, inbox)
    keys = [f"asset-{i}" for i in range(4)]
    for n in range(300):
        for key in keys:
            transport.publish(topic, key, json.dumps({"ID": "n", "VALUE": n}).encode())
    assert transport.flush(10).ok
    received = inbox.wait_count(1200)
    for key in keys:
        assert [r.json()["VALUE"] for r in received if r.key == key] == list(range(300))
    assert len(cluster.consume_all(topic)) == 1200
    transport.close()


def test_unreachable_broker_failures_are_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = KafkaTransport(
        f"127.0.0.1:{closed_port()}", FakeKSQLDB(), config={"message.timeout.ms": 300}
    )
    reports: list[DeliveryReport] = []
    with caplog.at_level(logging.ERROR, logger="openfactory.transport"):
        transport.publish("t", "asset-9", b'{"ID": "temperature", "VALUE": 1}', reports.append)
        result = transport.flush(5)
    assert result.undelivered == 0
    assert len(result.failures) == 1 and transport.failures == result.failures
    assert transport.failure_count == result.failure_count == 1
    assert reports == result.failures and not reports[0].ok
    error = reports[0].as_error()
    assert (error.key, error.attribute_id, error.topic) == ("asset-9", "temperature", "t")
    assert "asset-9" in caplog.text and "temperature" in caplog.text
    assert "timed out" in error.reason.lower()
    transport.close_timeout = 0.5
    transport.close()


def test_failures_of_records_published_without_a_callback_are_counted() -> None:
    # The attribute updates' path (bytes, no callback, no command): failures still reported.
    transport = KafkaTransport(
        f"127.0.0.1:{closed_port()}", FakeKSQLDB(), config={"message.timeout.ms": 300}
    )
    values = [b'{"ID": "level", "VALUE": %d}' % n for n in range(3)]
    for value in values:
        transport.publish("t", "asset-9", value)
    result = transport.flush(5)
    assert result.undelivered == 0
    assert transport.failure_count == result.failure_count == 3
    assert sorted(r.record.value or b"" for r in result.failures) == values
    assert all(not r.ok and r.record.key == "asset-9" for r in result.failures)
    transport.close_timeout = 0.5
    transport.close()


def test_full_queue_is_waited_out_not_dropped(cluster: LoopbackKafka, topic: str) -> None:
    cluster.create_topic(topic)
    transport = open_transport(cluster, **{"queue.buffering.max.messages": 2})
    for n in range(30):
        transport.publish(topic, "k", b"%d" % n)
    assert transport.flush(10).ok
    assert [r.value for r in cluster.consume_all(topic)] == [b"%d" % n for n in range(30)]
    transport.close()


def test_queue_full_for_too_long_raises() -> None:
    transport = KafkaTransport(
        f"127.0.0.1:{closed_port()}",
        FakeKSQLDB(),
        config={"queue.buffering.max.messages": 1, "message.timeout.ms": 2000},
    )
    transport.queue_full_timeout = 0.2
    transport.publish("t", "k", b"fills the queue")
    started = time.monotonic()
    with pytest.raises(TransportError, match="queue"):
        transport.publish("t", "k", b"no room")
    assert time.monotonic() - started < 2
    assert transport.pending() == 1
    transport.close_timeout = 0.1
    transport.close()


def test_failing_callbacks_do_not_stop_delivery(cluster: LoopbackKafka, topic: str) -> None:
    transport = open_transport(cluster)
    inbox = Collector()

    def explode(record: Record) -> None:
        raise RuntimeError("subscriber bug")

    def explode_on_delivery(report: DeliveryReport) -> None:
        raise RuntimeError("delivery callback bug")

    transport.subscribe(topic, "k", explode)
    transport.subscribe(topic, "k", inbox)
    transport.publish(topic, "k", b"1", explode_on_delivery)
    transport.publish(topic, "k", b"2", explode_on_delivery)
    assert [r.value for r in inbox.wait_count(2)] == [b"1", b"2"]
    assert transport.flush(5).ok
    transport.close()


def test_callbacks_may_subscribe_and_stop(cluster: LoopbackKafka, topic: str) -> None:
    transport = open_transport(cluster)
    inner, outer = Collector(), Collector()
    subscriptions = []

    def on_inner(record: Record) -> None:
        subscriptions[0].stop()
        inner(record)

    def on_outer(record: Record) -> None:
        if record.value == b"start":
            subscriptions.append(transport.subscribe(topic, "k", on_inner))
        else:
            first.stop()
        outer(record)

    first = transport.subscribe(topic, "k", on_outer)
    transport.publish(topic, "k", b"start")
    outer.wait_count(1)
    transport.publish(topic, "k", b"stop")
    assert [r.value for r in inner.wait_count(1)] == [b"stop"]
    assert [r.value for r in outer.wait_count(2)] == [b"start", b"stop"]
    assert reader_count() == 0
    transport.close()


def test_query_goes_to_the_ksqldb_client(cluster: LoopbackKafka) -> None:
    ksqldb = FakeKSQLDB()
    asset = ksqldb.open_transport()
    asset.publish(
        "ofa_assets",
        "A1",
        json.dumps(
            {
                "ID": "avail",
                "VALUE": "AVAILABLE",
                "TAG": "Availability",
                "TYPE": "Events",
                "attributes": {"timestamp": "2026-05-04T12:34:56.789Z"},
            }
        ).encode(),
    )
    with KafkaTransport(cluster.bootstrap_servers, ksqldb) as transport:
        rows = transport.query("SELECT AVAILABILITY FROM assets_avail WHERE ASSET_UUID='A1';")
    assert rows == [{"AVAILABILITY": "AVAILABLE"}]


@pytest.mark.parametrize(
    ("bootstrap", "ksql", "config", "message"),
    [
        ("", FakeKSQLDB(), None, "bootstrap_servers"),
        (42, FakeKSQLDB(), None, "bootstrap_servers"),
        ("127.0.0.1:9092", object(), None, "get_kafka_topic"),
        ("127.0.0.1:9092", FakeKSQLDB(), ["linger.ms"], "mapping"),
        ("127.0.0.1:9092", FakeKSQLDB(), {"bootstrap.servers": "x:1"}, "bootstrap.servers"),
        ("127.0.0.1:9092", FakeKSQLDB(), {"no.such.property": 1}, "no.such.property"),
    ],
)
def test_bad_constructor_arguments(bootstrap, ksql, config, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        KafkaTransport(bootstrap, ksql, config=config)
    assert producer_count() == 0


class TopicsOnly:
    """The two methods the Kafka transport itself calls, and no more."""

    def get_kafka_topic(self, name: str) -> str:
        return "ofa_assets"

    def query(self, sql: str) -> list[dict]:
        return []


def test_ksql_client_must_keep_the_whole_ksqldb_contract() -> None:
    with pytest.raises(ConfigurationError) as raised:
        KafkaTransport("127.0.0.1:9092", TopicsOnly())  # type: ignore[arg-type]
    message = str(raised.value)
    assert "got TopicsOnly lacking close, info, insert_into_stream, statement_query" in message
    assert "openfactory.transport.KSQLDB" in message and "KSQLDBClient(url)" in message
    assert producer_count() == 0
