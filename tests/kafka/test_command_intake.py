"""On Kafka, nothing raised on the threads that bring an app its commands stops them: a topic
reader outlives a subscriber that raises ``SystemExit``, ``CancelledError`` or
``KeyboardInterrupt`` (every subscription of the topic in the process shares that thread, an
app's command intake included), and the app's command thread outlives a method that raises any
of them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from outcomes import Outcomes
from record_collector import Collector

from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.commands import CommandEnvelope
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.transport import Record, Transport
from openfactory.transport.wire import COMMAND_SUFFIX, COMMAND_TAG, asset_record

TIMEOUT = 20.0
ESCAPES: list[BaseException] = [SystemExit(3), asyncio.CancelledError(), KeyboardInterrupt()]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackKafka]:
    with LoopbackKafka() as running:
        yield running
        reset_kafka_clients()


@pytest.fixture
def transports(cluster: LoopbackKafka) -> Iterator[list[KafkaTransport]]:
    opened: list[KafkaTransport] = []
    yield opened
    for transport in opened:
        transport.close()


def open_transport(cluster: LoopbackKafka, opened: list[KafkaTransport]) -> KafkaTransport:
    transport = KafkaTransport(cluster.bootstrap_servers, FakeKSQLDB())
    opened.append(transport)
    return transport


def test_a_subscriber_that_raises_anything_does_not_stop_the_topic_reader(
    cluster: LoopbackKafka, transports: list[KafkaTransport]
) -> None:
    transport = open_transport(cluster, transports)
    topic = f"intake-{uuid.uuid4().hex[:12]}"
    cluster.create_topic(topic)
    raised = iter(ESCAPES)
    calls = Collector()

    def hostile(record: Record) -> None:
        calls(record)
        escape = next(raised, None)
        if escape is not None:
            raise escape

    others = Collector()
    transport.subscribe(topic, "k", hostile)
    transport.subscribe(topic, "k", others)
    for n in range(len(ESCAPES) + 1):
        transport.publish(topic, "k", b"%d" % n)
    expected = [b"%d" % n for n in range(len(ESCAPES) + 1)]
    assert [r.value for r in others.wait_count(len(expected), TIMEOUT)] == expected
    assert [r.value for r in calls.wait_count(len(expected), TIMEOUT)] == expected


class Escaping(OpenFactoryApp):
    """A method that raises what it is told to; ``subscribe_to_attribute`` callbacks too."""

    @ofa_method()
    def escape(self, how: str) -> None:
        raise {"exit": SystemExit(3), "cancel": asyncio.CancelledError()}.get(
            how, KeyboardInterrupt()
        )

    @ofa_method()
    def note(self, text: str) -> str:
        return text


def send(transport: Transport, app: OpenFactoryApp, method: str, **arguments: str) -> None:
    envelope = CommandEnvelope.new("intake-caller", arguments).to_json()
    record = asset_record(method + COMMAND_SUFFIX, envelope, COMMAND_TAG, "OpenFactory", "")
    transport.publish("ofa_assets", app.asset_uuid, record)


def test_an_app_takes_commands_after_anything_its_methods_or_callbacks_raise(
    cluster: LoopbackKafka,
    transports: list[KafkaTransport],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_UUID", f"INTAKE-{uuid.uuid4().hex[:8]}")
    app = Escaping(ksqlClient=FakeKSQLDB(), transport=open_transport(cluster, transports))
    try:
        outcomes = Outcomes(app, TIMEOUT)
        # A callback of the app's own, on the reader thread its commands arrive on.
        raised = iter(ESCAPES)

        def hostile(_uuid: str, _record: object) -> None:
            escape = next(raised, None)
            if escape is not None:
                raise escape

        app.subscribe_to_attribute("escape_CMD", hostile)
        caller = open_transport(cluster, transports)
        for how in ("exit", "cancel", "interrupt"):
            send(caller, app, "escape", how=how)
        send(caller, app, "note", text="still here")
        seen = outcomes.wait_count(4)
        assert [(o.method, o.status) for o in seen] == [
            ("escape", "failed"),
            ("escape", "failed"),
            ("escape", "failed"),
            ("note", "executed"),
        ]
        assert [o.error.split(":")[0] for o in seen[:3] if o.error] == [
            "SystemExit",
            "CancelledError",
            "KeyboardInterrupt",
        ]
    finally:
        app.shutdown()
