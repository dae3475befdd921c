"""Subscriptions and commands as an app sees them, one suite on four worlds: in memory and on
loopback Kafka, each read directly and through the fan-out layer (asset router + NATS).

Every world is chosen the way an app's would be: the backends switch, routed by
``override_transport``, with ``ASSET_ROUTER_URL`` set for the fan-out worlds.
"""

from __future__ import annotations

import operator
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from openfactory.apps import CommandOutcome, OpenFactoryApp, ofa_method
from openfactory.assets import Asset, AssetAttribute
from openfactory.backends import override_transport
from openfactory.fanout import FanOutTransport
from openfactory.kafka.transport import KafkaTransport
from openfactory.testing.memory import MEMORY_ROUTER_URL, FakeKSQLDB

WORLDS = ["memory", "memory-fanout", "kafka", "kafka-fanout"]
WAIT = 10.0
FORWARDER_STAMPS = {"asset_forwarder_timestamp", "kafka_timestamp", "kafka_timestamp_type"}


class Greeter(OpenFactoryApp):
    """An app with one method, recording what it was asked."""

    @ofa_method()
    def greet(self, name: str, times: int = 1) -> None:
        """Greet someone."""
        self.greeted.append((name, times))

    def main_loop(self) -> None:
        pass


@dataclass
class World:
    """Where the test's apps and assets run, and how to wait for the fan-out layer."""

    name: str
    ksqldb: FakeKSQLDB
    settle: Callable[[], None] = lambda: None
    opened: list[Asset] = field(default_factory=list)

    @property
    def fanout(self) -> bool:
        return self.name.endswith("fanout")

    def asset(self, asset_uuid: str) -> Asset:
        view = Asset(asset_uuid, self.ksqldb)
        self.opened.append(view)
        assert isinstance(view.transport, FanOutTransport) == self.fanout
        return view

    def app(self, app_uuid: str, monkeypatch: pytest.MonkeyPatch) -> Greeter:
        monkeypatch.setenv("APP_UUID", app_uuid)
        app = Greeter(self.ksqldb)
        app.greeted = []
        self.opened.append(app)
        return app


@pytest.fixture(params=WORLDS)
def world(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    name = str(request.param)
    ksqldb = FakeKSQLDB()
    built = World(name, ksqldb)
    if name.startswith("kafka"):
        bootstrap = request.getfixturevalue("loopback").bootstrap_servers

        def factory(_ksql: Any, _bootstrap: Any) -> Any:
            return KafkaTransport(bootstrap, ksqldb)
    else:

        def factory(_ksql: Any, _bootstrap: Any) -> Any:
            return ksqldb.open_transport()

    if name == "memory-fanout":
        monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    elif name == "kafka-fanout":
        monkeypatch.setenv("ASSET_ROUTER_URL", request.getfixturevalue("ofa_asset_router").url)
        forwarder = request.getfixturevalue("ofa_asset_forwarder")
        built.settle = lambda: forwarder.sync(WAIT) or pytest.fail("the forwarder lags")
    with override_transport(factory):
        yield built
        for opened in reversed(built.opened):
            opened.close()


class Inbox:
    """A subscription callback a test can wait on."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._changed = threading.Condition()

    def __call__(self, subject: str, message: dict[str, Any]) -> None:
        with self._changed:
            self.messages.append((subject, message))
            self._changed.notify_all()

    def wait(self, count: int) -> list[dict[str, Any]]:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.messages) >= count, WAIT)
            assert arrived, f"{count} message(s) expected, got {self.messages}"
            return [message for _, message in self.messages]

    def ids_values(self) -> list[tuple[str, Any]]:
        with self._changed:
            return [(m["ID"], m["VALUE"]) for _, m in self.messages]


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sample(value: Any) -> AssetAttribute:
    return AssetAttribute(value, "Samples", "Temperature")


# subscriptions ------------------------------------------------------------------------------
def test_attribute_subscription_gets_new_values_in_order(world: World) -> None:
    asset_uuid = fresh("SENSOR")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    inbox = Inbox()
    follower.subscribe_to_attribute("temp", inbox)
    for i in range(5):
        writer.add_attribute("temp", sample(20 + i))
        writer.add_attribute("other", sample(-i))
    messages = inbox.wait(5)
    assert inbox.ids_values() == [("temp", 20 + i) for i in range(5)]
    # The callback's subject: the UUID as published, a dot, the attribute id (reference 4.7).
    assert {subject for subject, _ in inbox.messages} == {f"{asset_uuid}.temp"}
    assert all(m["TYPE"] == "Samples" and m["TAG"] == "Temperature" for m in messages)


def test_lower_case_uuid_is_followed_as_published(world: World) -> None:
    # Reference section 11, item 24: the subject carries the UUID as published.
    asset_uuid = fresh("app-scheduler")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    inbox = Inbox()
    follower.subscribe_to_messages(inbox)
    writer.add_attribute("job", AssetAttribute("queued", "Events", "Job.State"))
    assert [(m["ID"], m["VALUE"]) for m in inbox.wait(1)] == [("job", "queued")]


def test_feeds_by_type_deliver_their_type_only(world: World) -> None:
    asset_uuid = fresh("MACHINE")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    samples, events, conditions, everything = Inbox(), Inbox(), Inbox(), Inbox()
    follower.subscribe_to_samples(samples)
    follower.subscribe_to_events(events)
    follower.subscribe_to_conditions(conditions)
    follower.subscribe_to_messages(everything)
    writer.add_attribute("speed", AssetAttribute(12.5, "Samples", "Speed"))
    writer.add_attribute("mode", AssetAttribute("AUTO", "Events", "Mode"))
    writer.add_attribute("temp_ok", AssetAttribute("NORMAL", "Condition", "Temperature"))
    everything.wait(3)
    assert [(m["ID"], m["VALUE"]) for m in samples.wait(1)] == [("speed", 12.5)]
    assert [(m["ID"], m["VALUE"]) for m in events.wait(1)] == [("mode", "AUTO")]
    assert [(m["ID"], m["VALUE"]) for m in conditions.wait(1)] == [("temp_ok", "NORMAL")]
    assert [m["ID"] for m in everything.wait(3)] == ["speed", "mode", "temp_ok"]


def test_stopped_subscription_gets_nothing_more(world: World) -> None:
    asset_uuid = fresh("SENSOR")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    stopped, witness = Inbox(), Inbox()
    follower.subscribe_to_attribute("temp", stopped)
    follower.subscribe_to_messages(witness)
    writer.add_attribute("temp", sample(1))
    stopped.wait(1)
    follower.stop_attribute_subscription("temp")
    follower.stop_attribute_subscription("temp")
    writer.add_attribute("temp", sample(2))
    witness.wait(2)  # the second record reached the asset: the stopped feed had its chance
    assert stopped.ids_values() == [("temp", 1)]


def test_only_records_published_after_subscribing_are_delivered(world: World) -> None:
    asset_uuid = fresh("SENSOR")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    writer.add_attribute("temp", sample("old"))
    assert writer.transport.flush(WAIT).ok
    world.settle()
    inbox = Inbox()
    follower.subscribe_to_attribute("temp", inbox)
    writer.add_attribute("temp", sample("new"))
    inbox.wait(1)
    assert inbox.ids_values() == [("temp", "new")]


def test_messages_carry_the_timestamps_of_their_path(world: World) -> None:
    asset_uuid = fresh("SENSOR")
    follower, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    inbox = Inbox()
    follower.subscribe_to_messages(inbox)
    writer.add_attribute("temp", AssetAttribute(5, "Samples", "T", "2026-05-04T12:34:56.789Z"))
    (message,) = inbox.wait(1)
    stamps = message["attributes"]
    assert stamps["timestamp"] == "2026-05-04T12:34:56.789Z"
    # Through the fan-out layer, the forwarder's and Kafka's timestamps too (reference 4.7).
    assert set(stamps) - {"timestamp"} == (FORWARDER_STAMPS if world.fanout else set())
    if world.fanout:
        assert stamps["kafka_timestamp_type"] in ("producer", "broker")


def test_reads_and_wait_until_follow_another_writer(world: World) -> None:
    asset_uuid = fresh("SENSOR")
    reader, writer = world.asset(asset_uuid), world.asset(asset_uuid)
    writer.add_attribute("status", AssetAttribute("starting", "Events", "Status"))
    assert reader.wait_until("status", "starting", timeout=WAIT)
    done = threading.Event()
    reached: list[bool] = []

    def wait() -> None:
        reached.append(reader.wait_until("status", "ready", timeout=WAIT))
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    writer.add_attribute("status", AssetAttribute("ready", "Events", "Status"))
    assert done.wait(WAIT) and reached == [True]
    waiter.join()
    assert reader.status.value == "ready"


# commands -----------------------------------------------------------------------------------
def test_command_reaches_the_app_and_runs(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    app_uuid = fresh("greeter")  # lower case: commands arrive all the same (item 24)
    caller = world.asset(app_uuid)
    app = world.app(app_uuid, monkeypatch)
    outcomes: list[CommandOutcome] = []
    ran = threading.Event()

    def observe(outcome: CommandOutcome) -> None:
        outcomes.append(outcome)
        ran.set()

    app.add_command_observer(observe)
    assert caller.wait_until("greet", "UNAVAILABLE", operator.ne, timeout=WAIT)
    correlation_id = caller.method("greet", "contract-test", {"name": "Ada", "times": 3})
    assert ran.wait(WAIT), "the command never reached the app"
    assert app.greeted == [("Ada", 3)]
    assert (outcomes[0].status, outcomes[0].method) == ("executed", "greet")
    assert str(outcomes[0].correlation_id) == correlation_id


def test_malformed_command_is_rejected_and_the_next_one_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_uuid = fresh("GREETER")
    caller = world.asset(app_uuid)
    app = world.app(app_uuid, monkeypatch)
    outcomes: list[CommandOutcome] = []
    two = threading.Event()

    def observe(outcome: CommandOutcome) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 2:
            two.set()

    app.add_command_observer(observe)
    assert caller.wait_until("greet", "UNAVAILABLE", operator.ne, timeout=WAIT)
    caller.add_attribute("greet_CMD", AssetAttribute("{not json", "OpenFactory", "Method.Command"))
    caller.method("greet", "contract-test", {"name": "Bob"})
    assert two.wait(WAIT), f"expected two outcomes, got {outcomes}"
    assert [o.status for o in outcomes] == ["rejected", "executed"]
    assert app.greeted == [("Bob", 1)]
