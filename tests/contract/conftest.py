"""The transport contract runs on every implementation: in memory, and the Kafka transport on
two independent brokers on loopback (librdkafka's mock cluster in this process, Tansu as a
process of its own); in memory and on the mock cluster also through the fan-out layer (in
memory: the broker's own; on loopback: a real nats-server, the asset router over HTTP and the
forwarder from Kafka)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from record_collector import Collector

from openfactory.fanout import nats_fan_out
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.testing import FakeBroker, FakeKSQLDB, InMemoryTransport
from openfactory.testing.loopback import AssetForwarder, LoopbackAssetRouter, LoopbackKafka
from openfactory.testing.memory import MEMORY_ROUTER_URL
from openfactory.testing.memory.fanout import in_memory_fan_out
from openfactory.transport import Transport

IMPLEMENTATIONS = ["memory", "memory-fanout", "kafka", "kafka-fanout", "tansu"]


class CountingKSQLDB(FakeKSQLDB):
    """A fake ksqlDB that counts topic look-ups, to show ``topic_for`` caches."""

    def __init__(self, broker: FakeBroker | None = None) -> None:
        super().__init__(broker)
        self.lookups = 0

    def get_kafka_topic(self, name: str) -> str:
        self.lookups += 1
        return super().get_kafka_topic(name)


@pytest.fixture(scope="session")
def loopback(ofa_loopback_kafka: LoopbackKafka) -> Iterator[LoopbackKafka]:
    """One in-process mock Kafka cluster for the whole session (the plugin's, which the
    forwarder of the fan-out layer reads)."""
    yield ofa_loopback_kafka
    reset_kafka_clients()


@pytest.fixture(params=IMPLEMENTATIONS)
def kind(request: pytest.FixtureRequest) -> str:
    """Which transport implementation the test runs on."""
    return str(request.param)


@pytest.fixture
def ksqldb(kind: str) -> CountingKSQLDB:
    """The fake ksqlDB behind the transport (on Kafka it only names topics)."""
    return CountingKSQLDB(FakeBroker())


@pytest.fixture
def new_transport(
    kind: str, ksqldb: CountingKSQLDB, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Transport]]:
    """Open more transports of this implementation on the same broker (closed after the test)."""
    opened: list[Transport] = []

    def open_one() -> Transport:
        if kind == "memory":
            transport: Transport = InMemoryTransport(ksqldb.broker, ksqldb)
        elif kind == "memory-fanout":
            transport = in_memory_fan_out(
                InMemoryTransport(ksqldb.broker, ksqldb), MEMORY_ROUTER_URL
            )
        else:
            cluster = request.getfixturevalue("ofa_tansu" if kind == "tansu" else "loopback")
            transport = KafkaTransport(cluster.bootstrap_servers, ksqldb)
            if kind == "kafka-fanout":
                router: LoopbackAssetRouter = request.getfixturevalue("ofa_asset_router")
                request.getfixturevalue("ofa_asset_forwarder")
                transport = nats_fan_out(transport, router.url)
        opened.append(transport)
        return transport

    yield open_one
    for transport in opened:
        transport.close()


@pytest.fixture
def transport(new_transport: Callable[[], Transport]) -> Transport:
    """A transport of each implementation, closed after the test."""
    return new_transport()


@pytest.fixture
def settle(kind: str, request: pytest.FixtureRequest) -> Callable[[], None]:
    """Wait until the fan-out layer has caught up with what is on Kafka now (in memory it
    always has: the forwarder runs inside publish)."""
    if kind != "kafka-fanout":
        return lambda: None
    forwarder: AssetForwarder = request.getfixturevalue("ofa_asset_forwarder")

    def wait() -> None:
        assert forwarder.sync(10), "the forwarder did not catch up with Kafka within 10 s"

    return wait


@pytest.fixture
def topic() -> str:
    """A fresh topic name, so tests never see each other's records."""
    return f"contract-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def collect() -> Callable[[], Collector]:
    """Make a new ``Collector``."""
    return Collector
