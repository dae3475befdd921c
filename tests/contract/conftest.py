"""The transport contract runs on every implementation: in memory, and the Kafka transport on
two independent brokers on loopback (librdkafka's mock cluster in this process, Tansu as a
process of its own)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from record_collector import Collector

from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.testing import FakeBroker, FakeKSQLDB, InMemoryTransport
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.transport import Transport

IMPLEMENTATIONS = ["memory", "kafka", "tansu"]


class CountingKSQLDB(FakeKSQLDB):
    """A fake ksqlDB that counts topic look-ups, to show ``topic_for`` caches."""

    def __init__(self, broker: FakeBroker | None = None) -> None:
        super().__init__(broker)
        self.lookups = 0

    def get_kafka_topic(self, name: str) -> str:
        self.lookups += 1
        return super().get_kafka_topic(name)


@pytest.fixture(scope="session")
def loopback() -> Iterator[LoopbackKafka]:
    """One in-process mock Kafka cluster for the whole session."""
    with LoopbackKafka() as cluster:
        yield cluster
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
        else:
            cluster = request.getfixturevalue("loopback" if kind == "kafka" else "ofa_tansu")
            transport = KafkaTransport(cluster.bootstrap_servers, ksqldb)
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
def topic() -> str:
    """A fresh topic name, so tests never see each other's records."""
    return f"contract-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def collect() -> Callable[[], Collector]:
    """Make a new ``Collector``."""
    return Collector
