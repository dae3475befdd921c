"""Reference section 4.8 (and section 9.4's ``assets_uns`` and ``asset_to_uns_map``
statements, section 11 item 28): ``close()``, and ``AssetUNS``, a view of an asset by UNS id:
reads of ``assets_uns``, writes and subscriptions on the mapped asset, the mapping watcher."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from record_collector import Collector
from recording_ksqldb import RecordingKSQLDB

from openfactory.assets import Asset, AssetAttribute, AssetUNS
from openfactory.errors import TransportError
from openfactory.exceptions import OFAException
from openfactory.kafka import KSQLDBClient
from openfactory.testing.loopback import LoopbackKafka
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
PUMP, SPARE = "PUMP-001", "PUMP-002"
UNS = "factory/line-1/pump"


def mapping_record(asset: str, uns_id: str | None) -> bytes:
    """What the deployer publishes (and, with ``uns_id=None``, the deregistration)."""
    if uns_id is None:
        mapping: dict[str, Any] = {"asset_uuid": asset, "uns_id": None, "uns_levels": None,
                                   "updated_at": 1_777_897_296_789}  # fmt: skip
    else:
        mapping = {"ASSET_UUID": asset, "UNS_ID": uns_id, "UNS_LEVELS": {"line": "line-1"},
                   "UPDATED_AT": 1_777_897_296_789}  # fmt: skip
    return json.dumps(mapping).encode()


def map_uns(ksql: FakeKSQLDB, asset: str, uns_id: str | None = UNS) -> None:
    ksql.broker.produce("asset_to_uns_map_topic", asset, mapping_record(asset, uns_id))


def publish_uns(ksql: FakeKSQLDB, attr: str, value: Any, tag: str, type_: str) -> None:
    """A record of the UNS stream, as the platform derives it from the asset's records."""
    record = {"ASSET_UUID_KEY": PUMP, "ASSET_UUID": PUMP, "ID": attr, "VALUE": value, "TAG": tag,
              "TYPE": type_, "attributes": {"timestamp": TS}}  # fmt: skip
    ksql.broker.produce("ofa_assets_uns", UNS, json.dumps(record).encode())


def published(ksql: FakeKSQLDB, asset: str) -> list[dict[str, Any]]:
    return [json.loads(r.value or b"") for r in ksql.broker.records("ofa_assets", asset)]


@pytest.fixture
def ksql() -> RecordingKSQLDB:
    ksql = RecordingKSQLDB()
    map_uns(ksql, PUMP)
    ksql.broker.produce("ofa_assets", PUMP, asset_record(
        "AssetType", "OpenFactoryApp", "AssetType", "OpenFactory", TS))  # fmt: skip
    publish_uns(ksql, "status", "idle", "App.Status", "Events")
    publish_uns(ksql, "temp", "21.5", "Temperature", "Samples")
    publish_uns(ksql, "references_above", "factory/line-1, factory", "AssetsReferences",
                "OpenFactory")  # fmt: skip
    return ksql


# close() ------------------------------------------------------------------------------------
def test_close_stops_the_view_and_is_idempotent(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    asset.close()
    asset.close()
    with pytest.raises(TransportError, match="closed"):
        asset.add_attribute("x", asset.status)


def test_close_in_test_mode_returns() -> None:
    for view in (Asset(PUMP, KSQLDBClient("http://127.0.0.1:1"), test_mode=True),
                 AssetUNS(UNS, KSQLDBClient("http://127.0.0.1:1"), test_mode=True)):  # fmt: skip
        view.close()
        view.close()


# AssetUNS -------------------------------------------------------------------------------------
def test_the_constructor_takes_the_documented_parameters(ksql: FakeKSQLDB) -> None:
    positional = AssetUNS(UNS, ksql, None, None, False, True)
    named = AssetUNS(uns_id=UNS, ksqlClient=ksql, bootstrap_servers=None, asset_router_url=None,
                     test_mode=False, start_mapping_watcher=False)  # fmt: skip
    for view in (positional, named):
        assert (view.uns_id, view.ASSET_ID, view.asset_uuid) == (UNS, UNS, PUMP)


def test_it_reads_the_assets_uns_table(ksql: RecordingKSQLDB) -> None:
    uns = AssetUNS(UNS, ksql)
    assert (uns.status.value, uns.temp.value) == ("idle", 21.5)
    assert sorted(uns.attributes()) == ["references_above", "status", "temp"]
    assert f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM assets_uns WHERE uns_id='{UNS}';" in (
        ksql.queries
    )
    assert uns.wait_until("status", "idle", timeout=1, use_ksqlDB=True)
    assert ksql.queries[-1] == (
        f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets_uns WHERE key='{UNS}|status';"
    )


def test_asset_uuid_is_the_mapped_uuid_from_asset_to_uns_map(ksql: RecordingKSQLDB) -> None:
    without_watcher = AssetUNS(UNS, ksql, start_mapping_watcher=False)
    before = len(ksql.queries)
    assert without_watcher.asset_uuid == PUMP
    assert ksql.queries[before:] == [
        f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';"
    ]  # asked on every read without the watcher


def test_an_unmapped_uns_id_raises_on_asset_uuid() -> None:
    ksql = FakeKSQLDB()
    for watcher in (True, False):
        uns = AssetUNS("factory/nowhere", ksql, start_mapping_watcher=watcher)
        with pytest.raises(
            OFAException, match=r"^No Asset UUID mapping found for UNS asset 'factory/nowhere'\.$"
        ):
            uns.asset_uuid  # noqa: B018
        with pytest.raises(OFAException, match="No Asset UUID mapping"):
            uns.add_attribute("x", Asset("ELSEWHERE", ksql).nothing)


def test_writes_and_commands_go_on_the_mapped_assets_key(ksql: FakeKSQLDB) -> None:
    uns = AssetUNS(UNS, ksql)
    uns.status = "busy"
    assert (published(ksql, PUMP)[-1]["ID"], published(ksql, PUMP)[-1]["VALUE"]) == (
        "status", "busy",
    )  # fmt: skip
    assert uns.type == "OpenFactoryApp"


def test_subscriptions_and_state_follow_the_mapped_asset(ksql: FakeKSQLDB) -> None:
    uns, seen = AssetUNS(UNS, ksql), []
    uns.subscribe_to_attribute("temp", lambda subject, v: seen.append((subject, v["VALUE"])))
    record = asset_record("temp", 30.0, "Temperature", "Samples", TS)
    ksql.broker.produce("ofa_assets", PUMP, record)
    assert seen == [(f"{PUMP}.temp", 30.0)]
    assert uns.temp.value == 30.0


def test_the_mapping_watcher_follows_a_new_mapping(ksql: FakeKSQLDB) -> None:
    uns, seen = AssetUNS(UNS, ksql), []
    uns.subscribe_to_messages(lambda subject, value: seen.append(subject))
    map_uns(ksql, PUMP, None)  # the pump is deregistered, then a spare takes its place
    with pytest.raises(OFAException, match="No Asset UUID mapping"):
        uns.asset_uuid  # noqa: B018
    map_uns(ksql, SPARE)
    assert uns.asset_uuid == SPARE
    uns.status = "replaced"
    assert published(ksql, SPARE)[-1]["VALUE"] == "replaced"
    ksql.broker.produce("ofa_assets", PUMP, asset_record("status", "old", "S", "Events", TS))
    assert seen == [f"{SPARE}.status"]  # the old asset's records no longer arrive


def test_without_the_watcher_the_feeds_stay_on_the_first_mapping(ksql: FakeKSQLDB) -> None:
    uns, seen = AssetUNS(UNS, ksql, start_mapping_watcher=False), []
    uns.subscribe_to_messages(lambda subject, value: seen.append(subject))
    map_uns(ksql, PUMP, None)
    map_uns(ksql, SPARE)
    assert uns.asset_uuid == SPARE  # asked to ksqlDB
    ksql.broker.produce("ofa_assets", PUMP, asset_record("status", "old", "S", "Events", TS))
    assert seen == [f"{PUMP}.status"]


def test_close_stops_the_watcher(ksql: FakeKSQLDB) -> None:
    uns = AssetUNS(UNS, ksql)
    uns.close()
    ksql.stop()  # ksqlDB keeps the pump's mapping; a watcher would see the spare's record
    map_uns(ksql, PUMP, None)
    map_uns(ksql, SPARE)
    assert uns.asset_uuid == PUMP  # asked to ksqlDB: the record was not followed
    uns.close()


def test_references_give_uns_ids_and_uns_views(ksql: RecordingKSQLDB) -> None:
    uns = AssetUNS(UNS, ksql)
    assert uns.references_above_uuid() == uns.get_references_above_uuid() == [
        "factory/line-1", "factory",
    ]  # fmt: skip
    assert ksql.queries[-1] == (
        f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets_uns WHERE key='{UNS}|references_above';"
    )
    views = uns.references_above()
    assert [type(v) for v in views] == [AssetUNS, AssetUNS]
    assert [v.uns_id for v in views] == ["factory/line-1", "factory"]
    assert views[0].transport.inline_delivery
    assert uns.references_below_uuid() == uns.references_below() == []


def test_the_mapping_watcher_over_kafka(
    ofa_loopback_kafka: LoopbackKafka, ofa_ksqldb: FakeKSQLDB, ofa_ksqldb_server: FakeKSQLDBServer
) -> None:
    tag = uuid.uuid4().hex[:8]  # the loopback cluster lives for the whole session
    uns_id, pump, spare = f"factory/{tag}", f"PUMP-{tag}", f"SPARE-{tag}"
    map_uns(ofa_ksqldb, pump, uns_id)  # what ksqlDB holds when the view is built
    bootstrap = ofa_loopback_kafka.bootstrap_servers
    with KSQLDBClient(ofa_ksqldb_server.url) as client:
        uns = AssetUNS(uns_id, client, bootstrap)
        spare_side = Asset(spare, client, bootstrap)
        try:
            assert uns.asset_uuid == pump
            got_status = threading.Event()
            uns.subscribe_to_attribute(
                "status", lambda subject, _: subject == f"{spare}.status" and got_status.set()
            )
            # Subscribed after the view's watcher on the same reader: called after it.
            moved = Collector()
            spare_side.transport.subscribe("asset_to_uns_map_topic", spare, moved)
            for asset, mapped in ((pump, None), (spare, uns_id)):
                spare_side.transport.publish(
                    "asset_to_uns_map_topic", asset, mapping_record(asset, mapped)
                )
            moved.wait_for(lambda records: len(records) == 1, timeout=20)
            assert uns.asset_uuid == spare
            spare_side.add_attribute(AssetAttribute(id="status", value="ready", type="Events",
                                                    tag="Status"))  # fmt: skip
            assert got_status.wait(20)
            assert uns.status.value == "ready"
        finally:
            uns.close()
            spare_side.close()
