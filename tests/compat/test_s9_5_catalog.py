"""Reference §9.5: the platform's streams and tables in the fake ksqlDB (names, kinds, topics,
columns) and what the fake materializes from their topics as ksqlDB does."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from demo_app import DemoApp

from openfactory.errors import KSQLDBError
from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.testing import AppHarness, FakeBroker, FakeKSQLDB
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
UNS = "factory/line-1/pump-001"
LEVELS = {"area": "factory", "line": "line-1", "asset": "pump-001"}
UPDATED_AT = 1_777_897_296_789
UPDATED_AT_TEXT = "2026-05-04T12:21:36.789"  # how ksqlDB answers a TIMESTAMP: UTC, no zone

ASSET_COLUMNS = ["ASSET_UUID", "ID", "VALUE", "TAG", "TYPE", "ATTRIBUTES"]
STATE_COLUMNS = ["KEY", "ASSET_UUID", "ID", "VALUE", "TYPE", "TAG", "TIMESTAMP"]
UNS_MAP_COLUMNS = ["ASSET_UUID", "UNS_ID", "UNS_LEVELS", "UPDATED_AT"]
UNS_STATE_COLUMNS = ["KEY", "ASSET_UUID_KEY", "UNS_ID", "ASSET_UUID", "ID", "VALUE", "TYPE", "TAG",
                     "TIMESTAMP"]  # fmt: skip
INTERNAL = None  # a ksqlDB-internal topic: the reference names none

# (source as the reference spells it, kind, topic, key column, columns in schema order)
CATALOG: list[tuple[str, str, str | None, str, list[str]]] = [
    ("ASSETS_STREAM", "STREAM", "ofa_assets", "ASSET_UUID", ASSET_COLUMNS),
    ("enriched_assets_stream", "STREAM", "enriched_assets_stream_topic", "KEY", STATE_COLUMNS),
    ("assets", "TABLE", INTERNAL, "KEY", STATE_COLUMNS),
    ("assets_type", "TABLE", "assets_types_topic", "ASSET_UUID", ["ASSET_UUID", "TYPE"]),
    ("assets_avail", "TABLE", "assets_avail_topic", "ASSET_UUID", ["ASSET_UUID", "AVAILABILITY"]),
    ("docker_services", "TABLE", "docker_services_topic", "ASSET_UUID",
     ["ASSET_UUID", "DOCKER_SERVICE"]),
    ("asset_to_uns_map_raw", "TABLE", "asset_to_uns_map_topic", "ASSET_UUID", UNS_MAP_COLUMNS),
    ("asset_to_uns_map", "TABLE", INTERNAL, "ASSET_UUID", UNS_MAP_COLUMNS),
    ("assets_stream_uns", "STREAM", "ofa_assets_uns", "UNS_ID",
     ["UNS_ID", "ASSET_UUID_KEY", "ASSET_UUID", "ID", "VALUE", "TAG", "TYPE", "ATTRIBUTES"]),
    ("assets_uns", "TABLE", INTERNAL, "KEY", UNS_STATE_COLUMNS),
    ("METRICS_TARGETS_SOURCE", "TABLE", "metrics_targets_topic", "APPLICATION_UUID",
     ["APPLICATION_UUID", "HOST", "PORT", "PATH"]),
]  # fmt: skip
NAMED_TOPICS = {topic for _, _, topic, _, _ in CATALOG if topic is not None}


@pytest.fixture
def ksql() -> Iterator[FakeKSQLDB]:
    fake = FakeKSQLDB()
    yield fake
    fake.stop()


def produce(ksql: FakeKSQLDB, topic: str, key: str, value: dict[str, Any] | None) -> None:
    ksql.broker.produce(topic, key, None if value is None else json.dumps(value).encode())


def publish(ksql: FakeKSQLDB, asset: str, attr: str, value: Any, type_: str = "Events") -> None:
    ksql.broker.produce("ofa_assets", asset, asset_record(attr, value, "Tag", type_, TS))


def uns_record(attr: str, value: Any, type_: str = "Samples", **extra: Any) -> dict[str, Any]:
    return {"ASSET_UUID_KEY": "PUMP", "ASSET_UUID": "PUMP", "ID": attr, "VALUE": value,
            "TAG": "Tag", "TYPE": type_, "attributes": {"timestamp": TS}, **extra}  # fmt: skip


def mapping(asset: str = "PUMP", uns_id: str = UNS) -> dict[str, Any]:
    """What the platform's deployer publishes on asset_to_uns_map_topic (reference §9.2)."""
    return {"ASSET_UUID": asset, "UNS_ID": uns_id, "UNS_LEVELS": LEVELS, "UPDATED_AT": UPDATED_AT}


# the catalog --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind", "topic", "key", "columns"), CATALOG, ids=[c[0] for c in CATALOG]
)
def test_describe_extended_gives_the_platforms_source(
    ksql: FakeKSQLDB, name: str, kind: str, topic: str | None, key: str, columns: list[str]
) -> None:
    (entity,) = ksql.statement_query(f"DESCRIBE {name} EXTENDED;")
    description = entity["sourceDescription"]
    assert (description["name"], description["type"]) == (name.upper(), kind)
    if topic is None:
        assert description["topic"] not in NAMED_TOPICS  # a topic of its own
    else:
        assert description["topic"] == topic
        assert ksql.get_kafka_topic(name) == topic
    assert [field["name"] for field in description["fields"]] == columns
    assert [f["name"] for f in description["fields"] if f.get("type") == "KEY"] == [key]
    assert description["topic"] in ksql.broker.topics()


def test_the_uns_map_columns_have_ksqldb_types(ksql: FakeKSQLDB) -> None:
    for name in ("asset_to_uns_map_raw", "asset_to_uns_map"):
        description = ksql.statement_query(f"DESCRIBE {name};")[0]["sourceDescription"]
        types = {f["name"]: f["schema"]["type"] for f in description["fields"]}
        assert types == {"ASSET_UUID": "STRING", "UNS_ID": "STRING", "UNS_LEVELS": "MAP",
                         "UPDATED_AT": "TIMESTAMP"}  # fmt: skip
        assert "ASSET_UUID STRING PRIMARY KEY" in description["statement"]


def test_show_streams_and_tables_list_every_source_with_its_kind(ksql: FakeKSQLDB) -> None:
    streams, tables = ksql.statement_query("SHOW STREAMS; SHOW TABLES;")
    listed = {(s["name"], s["type"]) for s in streams["streams"] + tables["tables"]}
    assert listed == {(name.upper(), kind) for name, kind, *_ in CATALOG}
    topics = {s["name"]: s["topic"] for s in streams["streams"] + tables["tables"]}
    assert topics["ASSET_TO_UNS_MAP_RAW"] == "asset_to_uns_map_topic"
    assert ksql.streams() == [s["name"] for s in streams["streams"]]
    assert ksql.tables() == [t["name"] for t in tables["tables"]]


@pytest.mark.parametrize("h2", [False, True], ids=["http1.1", "h2c"])
def test_the_catalog_over_http(h2: bool) -> None:
    with (
        FakeKSQLDBServer(FakeKSQLDB(FakeBroker())) as server,
        KSQLDBClient(server.url, http2=h2, max_retries=0) as client,
    ):
        assert set(client.streams()) == {n.upper() for n, kind, *_ in CATALOG if kind == "STREAM"}
        assert set(client.tables()) == {n.upper() for n, kind, *_ in CATALOG if kind == "TABLE"}
        for name, _, topic, _, _ in CATALOG:
            if topic is not None:
                assert client.get_kafka_topic(name) == topic


# materialization: assets (through enriched_assets_stream) -----------------------------------
def test_assets_timestamp_is_unavailable_when_the_record_has_none(ksql: FakeKSQLDB) -> None:
    ksql.broker.produce("ofa_assets", "A", b'{"ID": "x", "VALUE": 1, "TYPE": "Events"}')
    ksql.broker.produce("ofa_assets", "A", b'{"ID": "y", "VALUE": 2, "attributes": {}}')
    assert ksql.query("SELECT ID, TIMESTAMP FROM assets;") == [
        {"ID": "x", "TIMESTAMP": "UNAVAILABLE"},
        {"ID": "y", "TIMESTAMP": "UNAVAILABLE"},
    ]


# materialization: "delete" records tombstone assets_type / assets_avail ------------------------
def test_an_asset_type_delete_record_removes_the_assets_type_row(ksql: FakeKSQLDB) -> None:
    for asset in ("A", "B"):
        publish(ksql, asset, "AssetType", "Device", "OpenFactory")
    publish(ksql, "A", "AssetType", "delete", "OpenFactory")
    publish(ksql, "B", "AssetType", "delete", "Events")  # only TYPE='OpenFactory' counts
    assert ksql.query("SELECT * FROM assets_type;") == [{"ASSET_UUID": "B", "TYPE": "Device"}]
    assert ksql.query("SELECT VALUE FROM assets WHERE key='A|AssetType';") == [{"VALUE": "delete"}]
    publish(ksql, "A", "AssetType", "Device", "OpenFactory")
    assert len(ksql.query("SELECT * FROM assets_type;")) == 2


@pytest.mark.parametrize("attr", ["avail", "agent_avail"])
def test_an_availability_delete_record_removes_the_assets_avail_row(
    ksql: FakeKSQLDB, attr: str
) -> None:
    publish(ksql, "A", attr, "AVAILABLE")
    publish(ksql, "B", attr, "AVAILABLE")
    publish(ksql, "A", attr, "delete", "OpenFactory")
    assert ksql.query("SELECT ASSET_UUID FROM assets_avail;") == [{"ASSET_UUID": "B"}]


# materialization: assets_uns from ofa_assets_uns --------------------------------------------
def test_assets_uns_holds_the_latest_record_of_each_uns_attribute(ksql: FakeKSQLDB) -> None:
    produce(ksql, "ofa_assets_uns", UNS, uns_record("temp", 20.5))
    produce(ksql, "ofa_assets_uns", UNS, uns_record("temp", 21.5))
    produce(ksql, "ofa_assets_uns", UNS, uns_record("status", "idle", "Events", attributes={}))
    produce(ksql, "ofa_assets_uns", "other/uns", uns_record("temp", 1))
    ksql.broker.produce("ofa_assets_uns", UNS, None)  # a stream has no use for tombstones
    rows = ksql.query(f"SELECT * FROM assets_uns WHERE uns_id='{UNS}';")
    assert rows == [
        {"KEY": f"{UNS}|temp", "ASSET_UUID_KEY": "PUMP", "UNS_ID": UNS, "ASSET_UUID": "PUMP",
         "ID": "temp", "VALUE": "21.5", "TYPE": "Samples", "TAG": "Tag", "TIMESTAMP": TS},
        {"KEY": f"{UNS}|status", "ASSET_UUID_KEY": "PUMP", "UNS_ID": UNS, "ASSET_UUID": "PUMP",
         "ID": "status", "VALUE": "idle", "TYPE": "Events", "TAG": "Tag",
         "TIMESTAMP": "UNAVAILABLE"},
    ]  # fmt: skip
    assert len(ksql.query("SELECT * FROM assets_uns;")) == 3


# materialization: asset_to_uns_map from asset_to_uns_map_topic -------------------------------
def test_the_uns_map_follows_its_topic(ksql: FakeKSQLDB) -> None:
    produce(ksql, "asset_to_uns_map_topic", "PUMP", mapping())
    produce(ksql, "asset_to_uns_map_topic", "OTHER", mapping("OTHER", "factory/other"))
    assert ksql.query(f"SELECT * FROM asset_to_uns_map WHERE uns_id='{UNS}';") == [
        {"ASSET_UUID": "PUMP", "UNS_ID": UNS, "UNS_LEVELS": LEVELS, "UPDATED_AT": UPDATED_AT_TEXT}
    ]
    produce(ksql, "asset_to_uns_map_topic", "PUMP", mapping(uns_id="factory/line-2/pump-001"))
    assert ksql.query(f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';") == []
    assert ksql.query("SELECT ASSET_UUID FROM asset_to_uns_map WHERE UNS_ID='factory/line-2/"
                      "pump-001';") == [{"ASSET_UUID": "PUMP"}]  # fmt: skip


def test_a_null_uns_id_clears_the_mapping_and_a_tombstone_deletes_the_row(
    ksql: FakeKSQLDB,
) -> None:
    produce(ksql, "asset_to_uns_map_topic", "PUMP", mapping())
    # what deregistration sends (reference §9.3): a row whose UNS_ID is null, not a delete
    cleared = {"asset_uuid": "PUMP", "uns_id": None, "uns_levels": None, "updated_at": UPDATED_AT}
    produce(ksql, "asset_to_uns_map_topic", "PUMP", cleared)
    assert ksql.query(f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';") == []
    assert ksql.query("SELECT * FROM asset_to_uns_map;") == [
        {"ASSET_UUID": "PUMP", "UNS_ID": None, "UNS_LEVELS": None, "UPDATED_AT": UPDATED_AT_TEXT}
    ]
    ksql.broker.produce("asset_to_uns_map_topic", "PUMP", None)
    assert ksql.query("SELECT * FROM asset_to_uns_map;") == []


def test_the_raw_uns_map_is_not_queryable_as_in_ksqldb(ksql: FakeKSQLDB) -> None:
    with pytest.raises(KSQLDBError) as caught:
        ksql.query("SELECT * FROM asset_to_uns_map_raw;")
    assert (caught.value.error_code, caught.value.status_code) == (40001, 400)
    assert caught.value.message.startswith(
        "The `ASSET_TO_UNS_MAP_RAW` table isn't queryable. To derive a queryable "
        "table, you can do 'CREATE TABLE QUERYABLE_ASSET_TO_UNS_MAP_RAW AS SELECT * FROM "
        "ASSET_TO_UNS_MAP_RAW'."
    )


def test_the_raw_uns_map_takes_inserts_keyed_by_asset_uuid(ksql: FakeKSQLDB) -> None:
    row = {"ASSET_UUID": "PUMP", "UNS_ID": UNS, "UNS_LEVELS": LEVELS, "UPDATED_AT": UPDATED_AT}
    assert ksql.insert_into_stream("asset_to_uns_map_raw", [row]) == [{"status": "ok", "seq": 0}]
    (record,) = ksql.broker.records("asset_to_uns_map_topic")
    assert record.key == "PUMP"
    assert record.json() == {k: v for k, v in row.items() if k != "ASSET_UUID"}
    assert ksql.query("SELECT UNS_ID FROM asset_to_uns_map;") == [{"UNS_ID": UNS}]
    required = r"Value for primary key column\(s\) ASSET_UUID is required for tables"
    with pytest.raises(KSQLDBError, match=required):
        ksql.insert_into_stream("asset_to_uns_map_raw", [{"UNS_ID": UNS}])


# materialization: METRICS_TARGETS_SOURCE from metrics_targets_topic --------------------------
def test_metrics_targets_follow_their_topic(ksql: FakeKSQLDB) -> None:
    # what the platform's register_prometheus_metrics publishes (reference §3.5)
    produce(ksql, "metrics_targets_topic", "PUMP", {"HOST": "pump", "PORT": "4000", "PATH": "/m"})
    assert ksql.query("SELECT * FROM METRICS_TARGETS_SOURCE WHERE APPLICATION_UUID='PUMP';") == [
        {"APPLICATION_UUID": "PUMP", "HOST": "pump", "PORT": "4000", "PATH": "/m"}
    ]
    ksql.broker.produce("metrics_targets_topic", "PUMP", None)
    assert ksql.query("SELECT * FROM METRICS_TARGETS_SOURCE;") == []


# replay and bad records ---------------------------------------------------------------------
def test_records_already_on_the_new_topics_are_materialized() -> None:
    broker = FakeBroker()
    broker.produce("asset_to_uns_map_topic", "PUMP", json.dumps(mapping()).encode())
    broker.produce("ofa_assets_uns", UNS, json.dumps(uns_record("temp", 1)).encode())
    broker.produce("metrics_targets_topic", "PUMP", b'{"HOST": "h", "PORT": "1", "PATH": "/"}')
    fake = FakeKSQLDB(broker)
    assert fake.query("SELECT ASSET_UUID FROM asset_to_uns_map;") == [{"ASSET_UUID": "PUMP"}]
    assert fake.query("SELECT KEY FROM assets_uns;") == [{"KEY": f"{UNS}|temp"}]
    assert fake.query("SELECT HOST FROM METRICS_TARGETS_SOURCE;") == [{"HOST": "h"}]
    fake.stop()


@pytest.mark.parametrize(
    ("topic", "key", "value"),
    [
        ("asset_to_uns_map_topic", "PUMP", {"UNS_ID": UNS, "UNS_LEVELS": "not a map"}),
        ("asset_to_uns_map_topic", "PUMP", {"UNS_ID": UNS, "UPDATED_AT": "yesterday"}),
        ("asset_to_uns_map_topic", "PUMP", {"UNS_ID": UNS, "UPDATED_AT": True}),
        ("ofa_assets_uns", UNS, {"VALUE": 1}),
        ("metrics_targets_topic", "PUMP", [1, 2]),
    ],
)
def test_records_ksqldb_cannot_read_are_logged_and_skipped(
    ksql: FakeKSQLDB, caplog: pytest.LogCaptureFixture, topic: str, key: str, value: Any
) -> None:
    with caplog.at_level(logging.WARNING, logger="openfactory.testing.memory.ksqldb"):
        ksql.broker.produce(topic, key, json.dumps(value).encode())
    assert "ignoring" in caplog.text
    for table in ("asset_to_uns_map", "assets_uns", "METRICS_TARGETS_SOURCE"):
        assert ksql.query(f"SELECT * FROM {table};") == []


# the SDK's deregistration against this catalog ----------------------------------------------
def test_an_app_shutting_down_is_unmapped_and_untyped() -> None:
    with AppHarness() as harness:
        app = harness.build(DemoApp, "DEMO-APP")
        ksql = harness.ksqldb
        publish(ksql, "DEMO-APP", "AssetType", "OpenFactoryApp", "OpenFactory")
        publish(ksql, "DEMO-APP", "DockerService", "demo-app", "OpenFactory")
        produce(ksql, "asset_to_uns_map_topic", "DEMO-APP", mapping("DEMO-APP"))
        assert ksql.query(f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';") == [
            {"ASSET_UUID": "DEMO-APP"}
        ]
        assert harness.stop(app).shutdown is not None
        mapped, unmapped = ksql.broker.records("asset_to_uns_map_topic", "DEMO-APP")
        assert (mapped.json()["UNS_ID"], unmapped.json()["uns_id"]) == (UNS, None)
        assert ksql.query(f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';") == []
        for table in ("assets_type", "assets_avail", "docker_services"):
            assert ksql.query(f"SELECT * FROM {table} WHERE ASSET_UUID='DEMO-APP';") == []
