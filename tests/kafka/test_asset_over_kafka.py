"""An asset's state over the production transport: its own records come back from the broker
(and are recognised without being decoded again), other writers' records are taken in topic
order. On both brokers: librdkafka's mock cluster and Tansu."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from openfactory.assets import Asset, AssetAttribute
from openfactory.kafka import KSQLDBClient

TIMEOUT = 30.0


@pytest.fixture(params=["ofa_loopback_kafka", "ofa_tansu"])
def world(request: pytest.FixtureRequest, ofa_ksqldb_server) -> Iterator[tuple[str, KSQLDBClient]]:
    """A loopback broker's address and a real ksqlDB client on the fake served over HTTP."""
    broker = request.getfixturevalue(request.param)
    with KSQLDBClient(ofa_ksqldb_server.url) as client:
        yield broker.bootstrap_servers, client


def test_own_records_come_back_without_a_second_decode(world) -> None:
    bootstrap, client = world
    asset = Asset("ECHO-1", client, bootstrap)
    last_seen = threading.Event()
    try:
        asset.add_attribute("level", AssetAttribute(0, "Samples", "Tank.Level"))
        # Subscribed after the asset's own state subscription, so called after it per record.
        asset.subscribe_to_attribute(
            "level", lambda _uuid, value: value["VALUE"] == 500 and last_seen.set()
        )
        for level in range(1, 501):
            asset.level = level
        published = asset.level
        assert asset.transport.flush(TIMEOUT).ok
        assert last_seen.wait(TIMEOUT)
        # Recognised, the echo of the last update is the published attribute: its very value
        # and timestamp objects (a decoded one would hold new ones); and nothing is left
        # waiting for its echo.
        assert asset.level == published
        assert asset.level.value is published.value
        assert asset.level.timestamp is published.timestamp
        assert not asset._echoes
    finally:
        asset.close()


def test_another_writer_after_us_wins_as_on_the_topic(world) -> None:
    bootstrap, client = world
    app_side = Asset("ECHO-2", client, bootstrap)
    other_side = Asset("ECHO-2", client, bootstrap)
    try:
        for level in range(100):
            app_side.add_attribute("level", AssetAttribute(level, "Samples", "Tank.Level"))
        assert app_side.transport.flush(TIMEOUT).ok
        assert other_side.wait_until("level", 99, timeout=TIMEOUT)
        other_side.level = "set elsewhere"
        assert app_side.wait_until("level", "set elsewhere", timeout=TIMEOUT)
        assert app_side.level.value == "set elsewhere"
    finally:
        app_side.close()
        other_side.close()
