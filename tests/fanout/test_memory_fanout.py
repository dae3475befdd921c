"""The fan-out layer in memory: how the backends switch composes it, its error paths (the same
as production's), and apps given a router in test_mode, the harness and --ofa-fake-broker."""

from __future__ import annotations

from typing import Any

import pytest

from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.assets import Asset, AssetAttribute
from openfactory.backends import open_transport, override_transport
from openfactory.errors import ConfigurationError, OFAConfigurationException, TransportError
from openfactory.fanout import AssetRouterError, FanOutTransport
from openfactory.kafka import KSQLDBClient
from openfactory.testing import AppHarness
from openfactory.testing.memory import (
    MEMORY_NATS_URL,
    MEMORY_ROUTER_URL,
    FakeKSQLDB,
    InMemoryFanOut,
    InMemoryTransport,
    embedded_broker,
    embedded_transport,
    fanout_of,
)

pytest_plugins = ["pytester"]


class Counter(OpenFactoryApp):
    """An app with one method, keeping what it was asked to add."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.added: list[int] = []  # set before the asset is built: a plain attribute
        super().__init__(*args, **kwargs)

    @ofa_method()
    def add(self, n: int) -> None:
        """Add ``n``."""
        self.added.append(n)

    def main_loop(self) -> None:
        pass


def temp(value: float) -> AssetAttribute:
    return AssetAttribute(value, "Samples", "Temperature")


# the switch ---------------------------------------------------------------------------------
def test_without_a_router_the_transport_is_not_wrapped(ofa_ksqldb: FakeKSQLDB) -> None:
    transport = open_transport(ofa_ksqldb, None)
    assert isinstance(transport, InMemoryTransport)
    transport.close()


def test_a_router_wraps_the_chosen_transport(
    ofa_ksqldb: FakeKSQLDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = open_transport(ofa_ksqldb, None, asset_router_url=MEMORY_ROUTER_URL)
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    from_env = open_transport(ofa_ksqldb, None)
    for transport in (given, from_env):
        assert isinstance(transport, FanOutTransport) and transport.inline_delivery
        assert isinstance(transport.inner, InMemoryTransport)
        transport.close()
    explicit = InMemoryTransport(ofa_ksqldb.broker, ofa_ksqldb)
    assert open_transport(ofa_ksqldb, None, transport=explicit) is explicit  # as given


def test_a_router_url_that_is_no_url_fails_and_closes_what_was_chosen(
    ofa_ksqldb: FakeKSQLDB,
) -> None:
    before = len(ofa_ksqldb.broker.records("ofa_assets"))
    with pytest.raises(ConfigurationError, match="ASSET_ROUTER_URL"):
        open_transport(ofa_ksqldb, None, asset_router_url="asset-router:8000")
    assert len(ofa_ksqldb.broker.records("ofa_assets")) == before


def test_an_app_given_a_router_follows_assets_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On the embedded world, as --ofa-fake-broker and ofa-dev run route it.
    monkeypatch.setenv("APP_UUID", "counter-1")
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    with override_transport(lambda _ksql, _bootstrap: embedded_transport()):
        app = Counter(KSQLDBClient("http://127.0.0.1:1"), bootstrap_servers="127.0.0.1:1")
    try:
        assert isinstance(app.transport, FanOutTransport)
        layer = fanout_of(embedded_broker())
        assert layer.router_requests == ["counter-1"]
        assert layer.default_server.subscriptions() == ["counter-1.>"]
        caller = Asset("counter-1", KSQLDBClient("http://127.0.0.1:1"), test_mode=True)
        caller.method("add", "tester", {"n": 2})  # runs inline, before method() returns
        assert app.added == [2]
        caller.close()
    finally:
        app.close()


def test_test_mode_reads_no_router_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As the platform: in test mode neither KAFKA_BROKER nor ASSET_ROUTER_URL is read.
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    view = Asset("A", KSQLDBClient("http://127.0.0.1:1"), test_mode=True)
    assert isinstance(view.transport, InMemoryTransport)
    view.close()
    transport = open_transport(None, None, test_mode=True, asset_router_url=MEMORY_ROUTER_URL)
    assert isinstance(transport, FanOutTransport)  # given one, it follows it
    transport.close()


def test_an_asset_and_an_app_given_a_router_by_argument_follow_it(
    ofa_ksqldb: FakeKSQLDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_UUID", "COUNTER")
    view = Asset("A", ofa_ksqldb, asset_router_url=MEMORY_ROUTER_URL)
    app = Counter(ofa_ksqldb, asset_router_url=MEMORY_ROUTER_URL, test_mode=True)
    try:
        assert isinstance(view.transport, FanOutTransport)
        assert isinstance(app.transport, FanOutTransport)
    finally:
        view.close()
        app.close()


# delivery -----------------------------------------------------------------------------------
def test_delivery_is_inline_and_through_the_server_the_router_names(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = ofa_fanout.add_server("nats://nats-cluster-2:4222")
    ofa_fanout.route("OVEN", second.url)
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    oven, writer = Asset("OVEN", ofa_ksqldb), Asset("OVEN", ofa_ksqldb)
    got: list[dict] = []
    oven.subscribe_to_attribute("temp", lambda _uuid, message: got.append(message))
    # The state feeds of both views, and this subscription.
    assert second.subscriptions() == ["OVEN.>"] * 3
    assert ofa_fanout.default_server.subscriptions() == []
    writer.add_attribute("temp", temp(180.0))
    assert [m["VALUE"] for m in got] == [180.0]  # delivered before add_attribute returned
    assert oven.temp.value == 180.0
    assert second.published == ofa_fanout.forwarded
    oven.stop_attribute_subscription("temp")
    oven.close()
    writer.close()
    assert second.subscriptions() == []


def test_a_forwarded_record_lost_nowhere_while_records_of_other_assets_go_elsewhere(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    follower = Asset("LINE-1", ofa_ksqldb)
    got: list[str] = []
    follower.subscribe_to_messages(lambda _uuid, message: got.append(message["ID"]))
    monkeypatch.delenv("ASSET_ROUTER_URL")
    direct = Asset("LINE-2", ofa_ksqldb)
    direct.add_attribute("x", temp(1.0))
    follower_writer = Asset("LINE-1", ofa_ksqldb)
    follower_writer.add_attribute("y", temp(2.0))
    assert got == ["y"]
    for asset in (follower, direct, follower_writer):
        asset.close()


# the router's and the server's failures, as in production ------------------------------------
@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)


@pytest.mark.usefixtures("routed")
def test_an_unreachable_router_fails_the_asset_naming_asset_router_url(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut
) -> None:
    ofa_fanout.router_reachable = False
    with pytest.raises(OFAConfigurationException, match="ASSET_ROUTER_URL"):
        Asset("A", ofa_ksqldb)


@pytest.mark.usefixtures("routed")
def test_router_answers_without_a_server_fail_the_asset(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut
) -> None:
    ofa_fanout.route("DOWN", status=503, answer={"detail": "cluster rebalancing"})
    with pytest.raises(AssetRouterError, match="HTTP 503"):
        Asset("DOWN", ofa_ksqldb)
    ofa_fanout.route("NAMELESS", answer={"asset_id": "NAMELESS", "cluster_name": "c"})
    with pytest.raises(ValueError, match="no 'nats_url'"):
        Asset("NAMELESS", ofa_ksqldb)


@pytest.mark.usefixtures("routed")
def test_a_server_that_does_not_answer_fails_the_asset(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut
) -> None:
    ofa_fanout.route("A", "nats://nats-down:4222")
    with pytest.raises(TransportError, match="'nats://nats-down:4222' did not answer"):
        Asset("A", ofa_ksqldb)


@pytest.mark.usefixtures("routed")
def test_a_uuid_nats_cannot_carry_fails_with_the_way_out(ofa_ksqldb: FakeKSQLDB) -> None:
    with pytest.raises(ConfigurationError, match="Kafka directly"):
        Asset("site.line.1", ofa_ksqldb)
    assert (
        Asset("site.line.1", ofa_ksqldb, transport=ofa_ksqldb.open_transport()).attributes() == []
    )


def test_the_default_answer_names_the_in_memory_server(ofa_fanout: InMemoryFanOut) -> None:
    status, body = ofa_fanout.answer("X")
    assert status == 200 and MEMORY_NATS_URL.encode() in body


# the harness and --ofa-fake-broker ------------------------------------------------------------
def test_the_harness_runs_an_app_given_a_router(ofa_app: AppHarness) -> None:
    app = ofa_app.build(Counter, "COUNTER", env={"ASSET_ROUTER_URL": MEMORY_ROUTER_URL})
    assert isinstance(app.transport, FanOutTransport)
    outcome = ofa_app.call(app, "add", n="5")
    assert outcome is not None and outcome.status == "executed" and app.added == [5]


def test_fake_broker_option_routes_apps_given_a_router_through_the_in_memory_layer(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_router_app="""
        import os
        from openfactory.apps import OpenFactoryApp, EventAttribute, ofa_method
        from openfactory.fanout import FanOutTransport
        from openfactory.kafka import KSQLDBClient

        class Lamp(OpenFactoryApp):
            state = EventAttribute(value="off", tag="Lamp.State")

            @ofa_method()
            def switch(self, on: bool):
                self.state = "on" if on else "off"

        def test_lamp(ofa_app, ofa_fanout, monkeypatch):
            monkeypatch.setenv("ASSET_ROUTER_URL", "http://asset-router:8000")
            lamp = Lamp(KSQLDBClient("http://127.0.0.1:1", max_retries=0),
                        bootstrap_servers="127.0.0.1:1")
            assert isinstance(lamp.transport, FanOutTransport)
            ofa_app.call(lamp, "switch", on="true")
            ofa_app.recorder.assert_last("state", "on")
            assert set(ofa_fanout.router_requests) == {"DEV-UUID"}  # the app and the caller
            lamp.shutdown()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--ofa-fake-broker").assert_outcomes(passed=1)


def test_own_records_relayed_through_the_fan_out_layer_are_known_as_echoes(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The forwarder adds timestamps: the echo does not come back byte for byte. Recognised all
    # the same, nothing waits for it (an unrecognised echo stayed remembered until 65,536 did).
    monkeypatch.setenv("ASSET_ROUTER_URL", MEMORY_ROUTER_URL)
    oven, other = Asset("OVEN", ofa_ksqldb), Asset("OVEN", ofa_ksqldb)
    oven.add_attribute("temp", temp(180.0))
    for value in (181.0, 182.5, "door open", None):
        oven.temp = value
    assert oven._echoes == {}
    assert oven.temp.value is None
    other.temp = 190.0  # another writer's record is no echo of oven's
    assert oven.temp.value == 190.0
    oven.close()
    other.close()


def test_a_shutdown_budget_bounds_closing_the_transport_under_the_fan_out_layer(
    ofa_ksqldb: FakeKSQLDB, ofa_fanout: InMemoryFanOut, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fan-out transport closes the one it wraps, which flushes: with what is left of the
    # app's budget, not its own default of 10 s.
    monkeypatch.setenv("APP_UUID", "COUNTER")
    monkeypatch.setenv("OPENFACTORY_SHUTDOWN_TIMEOUT", "0.2")
    app = Counter(ofa_ksqldb, asset_router_url=MEMORY_ROUTER_URL)
    assert isinstance(app.transport, FanOutTransport)
    ofa_ksqldb.broker.disconnect()
    report = app.shutdown()
    ofa_ksqldb.broker.reconnect()
    assert report.undelivered > 0 and report.exit_status == 1
    assert app.transport.inner.close_timeout <= 0.2
