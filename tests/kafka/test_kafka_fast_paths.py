"""The Kafka transport's fast paths keep its contract: commands are sent at once without
overtaking records of their key, an app's own echoes are taken from their raw bytes, and the
consumers' fetch wait is set deliberately and can be changed."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from record_collector import Collector

from openfactory.errors import ConfigurationError
from openfactory.kafka._clients import FETCH_WAIT_ENV, consumer_config
from openfactory.kafka._commands import is_command
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.transport.wire import COMMAND_TAG, asset_record

TS = "2026-05-04T12:34:56.789Z"
# A linger no test could wait out by chance: what is sent "at once" does not wait for it.
LONG_LINGER_MS = 2_000


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackKafka]:
    with LoopbackKafka() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_clients() -> Iterator[None]:
    yield
    reset_kafka_clients()


@pytest.fixture
def topic(cluster: LoopbackKafka) -> str:
    name = f"fast-{uuid.uuid4().hex[:12]}"
    cluster.create_topic(name)
    return name


def lingering_transport(cluster: LoopbackKafka) -> KafkaTransport:
    config = {"linger.ms": LONG_LINGER_MS, "fetch.wait.max.ms": 1}
    return KafkaTransport(cluster.bootstrap_servers, FakeKSQLDB(), config=config)


def command(key_method: str = "move") -> bytes:
    return asset_record(key_method + "_CMD", '{"arguments": {}}', COMMAND_TAG, "OpenFactory", TS)


def test_command_records_are_recognised_from_their_bytes() -> None:
    assert is_command(command())
    assert not is_command(asset_record("move_CMD", "", COMMAND_TAG, "OpenFactory", TS))  # start
    assert not is_command(asset_record("temp", 1.5, "Temperature", "Samples", TS))
    assert not is_command(None)


def test_a_command_is_sent_at_once_while_attribute_records_linger(
    cluster: LoopbackKafka, topic: str
) -> None:
    transport = lingering_transport(cluster)
    inbox = Collector()
    transport.subscribe(topic, None, inbox)
    # The first command goes with the attribute records, nudged; it makes the command lane.
    transport.publish(topic, "FIRST", command())
    assert [r.key for r in inbox.wait_count(1, timeout=LONG_LINGER_MS / 2000)] == ["FIRST"]
    lane = transport._shared.commands
    deadline = time.monotonic() + 5
    while lane.ready() is None:
        assert time.monotonic() < deadline, "the command lane never got ready"
        threading.Event().wait(0.05)  # the lane's producer id: nothing to wait on
    transport.publish(topic, "OTHER", asset_record("temp", 1, "T", "Samples", TS))
    transport.publish(topic, "TARGET", command())
    # Through the lane, the command overtakes the other key's lingering record.
    received = inbox.wait_count(2, timeout=LONG_LINGER_MS / 2000)
    assert [r.key for r in received] == ["FIRST", "TARGET"]
    assert transport.flush(10).ok
    assert [r.key for r in inbox.wait_count(3)] == ["FIRST", "TARGET", "OTHER"]
    transport.close()


def test_a_command_never_overtakes_a_record_of_its_key(cluster: LoopbackKafka, topic: str) -> None:
    transport = lingering_transport(cluster)
    inbox = Collector()
    transport.subscribe(topic, "TARGET", inbox)
    transport.publish(topic, "TARGET", asset_record("temp", 1, "T", "Samples", TS))
    transport.publish(topic, "TARGET", command())
    # The command follows the lingering record, and both leave without waiting for the linger.
    received = inbox.wait_count(2, timeout=LONG_LINGER_MS / 2000)
    assert [r.value for r in received] == [
        asset_record("temp", 1, "T", "Samples", TS),
        command(),
    ]
    assert transport.pending() == 0 or transport.flush(10).ok
    transport.close()


def test_echoes_claimed_from_their_bytes_and_other_records_delivered(
    cluster: LoopbackKafka, topic: str
) -> None:
    class Feed(Collector):
        """A subscription that claims the values it published itself."""

        def __init__(self) -> None:
            super().__init__()
            self.mine: set[bytes] = set()
            self.claimed: list[bytes] = []

        def claim(self, value: bytes) -> bool:
            if value not in self.mine:
                return False
            self.mine.discard(value)
            self.claimed.append(value)
            return True

    transport = KafkaTransport(cluster.bootstrap_servers, FakeKSQLDB())
    feed = Feed()
    transport.subscribe(topic, "ME", feed)
    values = [b'{"n": %d}' % n for n in range(50)]
    for n, value in enumerate(values):
        if n % 5:
            feed.mine.add(value)
        transport.publish(topic, "ME", value)
    assert transport.flush(10).ok
    # The records no claim took arrive as Records, in order; a claimed record is never both.
    expected = [v for n, v in enumerate(values) if not n % 5]
    waited = feed.wait_for(lambda records: len(records) + len(feed.claimed) >= len(values))
    delivered = [r.value for r in waited]
    assert feed.claimed  # past the subscription's start, echoes are claimed, not built
    assert set(delivered).isdisjoint(feed.claimed)
    assert set(delivered) | set(feed.claimed) == set(values)
    assert [v for v in delivered if v in expected] == expected
    transport.close()


def test_a_claim_that_raises_stops_nothing(cluster: LoopbackKafka, topic: str) -> None:
    class Broken(Collector):
        def claim(self, value: bytes) -> bool:
            raise RuntimeError("claim failed")

    transport = KafkaTransport(cluster.bootstrap_servers, FakeKSQLDB())
    broken, other = Broken(), Collector()
    transport.subscribe(topic, "A", broken)
    transport.subscribe(topic, "B", other)
    for key in ("A", "B", "A", "B"):
        transport.publish(topic, key, b"x")
    assert transport.flush(10).ok
    assert len(other.wait_count(2)) == 2
    transport.close()


def test_fetch_wait_default_env_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FETCH_WAIT_ENV, raising=False)
    assert consumer_config("h:1", {})["fetch.wait.max.ms"] == 10
    monkeypatch.setenv(FETCH_WAIT_ENV, "1")
    assert consumer_config("h:1", {})["fetch.wait.max.ms"] == 1
    assert consumer_config("h:1", {"fetch.wait.max.ms": 50})["fetch.wait.max.ms"] == 50
    monkeypatch.setenv(FETCH_WAIT_ENV, "soon")
    with pytest.raises(ConfigurationError, match=f"{FETCH_WAIT_ENV}.*'soon'"):
        consumer_config("h:1", {})
