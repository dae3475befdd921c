"""FakeKSQLDB: catalog, state tables materialized from the fake broker, pull queries,
/ksql statements and inserts."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.testing import FakeBroker, FakeKSQLDB, InMemoryTransport
from openfactory.transport import ksql_string
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
TABLE_TOPICS = {
    "ASSETS_TYPE": "assets_types_topic",
    "ASSETS_AVAIL": "assets_avail_topic",
    "DOCKER_SERVICES": "docker_services_topic",
}


@pytest.fixture
def ksql() -> Iterator[FakeKSQLDB]:
    fake = FakeKSQLDB()
    yield fake
    fake.stop()


def publish(
    ksql: FakeKSQLDB,
    asset: str,
    attr: str,
    value: Any,
    type_: str = "Events",
    tag: str = "Tag",
    ts: str = TS,
) -> None:
    ksql.broker.produce("ofa_assets", asset, asset_record(attr, value, tag, type_, ts))


def error_of(call: Any, *args: Any) -> KSQLDBError:
    with pytest.raises(KSQLDBError) as caught:
        call(*args)
    return caught.value


# construction and catalog ------------------------------------------------------------------
def test_creates_the_topics_of_every_stream_and_table() -> None:
    fake = FakeKSQLDB()
    assert set(fake.broker.topics()) >= {
        "ofa_assets",
        "asset_to_uns_map_topic",
        "assets_topic",
        *TABLE_TOPICS.values(),
    }
    assert fake.ksqldb_url == "fake://ksqldb"


def test_uses_the_given_broker_and_partition_count() -> None:
    broker = FakeBroker()
    fake = FakeKSQLDB(broker, assets_partitions=3)
    assert fake.broker is broker
    description = fake.statement_query("DESCRIBE ASSETS_STREAM EXTENDED;")[0]["sourceDescription"]
    assert description["partitions"] == 3
    for asset in ("A", "B", "C", "D", "E"):
        publish(fake, asset, "avail", "AVAILABLE")
    assert {r.partition for r in broker.records("ofa_assets")} <= {0, 1, 2}
    assert len(fake.query("SELECT * FROM assets_avail;")) == 5


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"broker": "localhost:9092"}, "broker must be a FakeBroker or None, got 'localhost:9092'"),
        ({"assets_partitions": 0}, "assets_partitions must be an int >= 1, got 0"),
        ({"assets_partitions": "2"}, "assets_partitions must be an int >= 1, got '2'"),
    ],
)
def test_rejects_bad_constructor_arguments(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        FakeKSQLDB(**kwargs)


def test_info_streams_and_tables(ksql: FakeKSQLDB) -> None:
    info = ksql.info()["KsqlServerInfo"]
    assert info["serverStatus"] == "RUNNING"
    assert {"version", "kafkaClusterId", "ksqlServiceId"} <= info.keys()
    assert ksql.streams() == ["ASSETS_STREAM", "ENRICHED_ASSETS_STREAM", "ASSETS_STREAM_UNS"]
    assert ksql.tables() == ["ASSETS", "ASSETS_TYPE", "ASSETS_AVAIL", "DOCKER_SERVICES",
                             "ASSET_TO_UNS_MAP_RAW", "ASSET_TO_UNS_MAP", "ASSETS_UNS",
                             "METRICS_TARGETS_SOURCE"]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("ASSETS_STREAM", "ofa_assets"),
        ("assets_stream", "ofa_assets"),
        ("asset_to_uns_map_raw", "asset_to_uns_map_topic"),
        ("assets", "assets_topic"),
        ("Assets_Type", "assets_types_topic"),
        ("assets_avail", "assets_avail_topic"),
        ("DOCKER_SERVICES", "docker_services_topic"),
    ],
)
def test_get_kafka_topic_is_case_insensitive(ksql: FakeKSQLDB, name: str, topic: str) -> None:
    assert ksql.get_kafka_topic(name) == topic


def test_get_kafka_topic_of_an_unknown_source(ksql: FakeKSQLDB) -> None:
    error = error_of(ksql.get_kafka_topic, "nope")
    assert (error.error_code, error.status_code) == (40001, 400)
    assert error.message == "Could not find STREAM/TABLE 'NOPE' in the Metastore"
    assert error_of(ksql.get_kafka_topic, 42).error_code == 40000


# materialization ---------------------------------------------------------------------------
def test_assets_table_holds_the_latest_record_of_each_attribute(ksql: FakeKSQLDB) -> None:
    publish(ksql, "A", "temp", 20.5, "Samples", "Temperature", "2026-01-01T00:00:00.000Z")
    publish(ksql, "A", "temp", 21.5, "Samples", "Temperature", "2026-01-01T00:00:01.000Z")
    publish(ksql, "B", "temp", 1, "Samples", "Temperature")
    names, types, rows = ksql.pull_query("SELECT * FROM assets WHERE ASSET_UUID = 'A';")
    assert names == ["KEY", "ASSET_UUID", "ID", "VALUE", "TYPE", "TAG", "TIMESTAMP"]
    assert types == ["STRING"] * 7
    assert rows == [
        ["A|temp", "A", "temp", "21.5", "Samples", "Temperature", "2026-01-01T00:00:01.000Z"]
    ]
    assert len(ksql.query("SELECT * FROM assets")) == 2


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("text", "text"),
        ("", ""),
        (42, "42"),
        (3.5, "3.5"),
        (True, "true"),
        (False, "false"),
        ({"a": 1, "b": [1, "x"]}, '{"a":1,"b":[1,"x"]}'),
        ([1, 2], "[1,2]"),
        ("é", "é"),
        (None, None),
    ],
)
def test_values_are_stored_as_ksqldb_strings(ksql: FakeKSQLDB, value: Any, stored: Any) -> None:
    publish(ksql, "A", "x", value)
    assert ksql.query("SELECT VALUE FROM assets WHERE ID = 'x'") == [{"VALUE": stored}]


def test_field_names_match_case_insensitively_like_ksqldb(ksql: FakeKSQLDB) -> None:
    payload = {"id": "x", "value": 1, "tag": "T", "type": "Events", "Attributes": {"TimeStamp": TS}}
    ksql.broker.produce("ofa_assets", "A", json.dumps(payload).encode())
    row = ksql.query("SELECT ID, VALUE, TAG, TYPE, TIMESTAMP FROM assets")
    assert row == [{"ID": "x", "VALUE": "1", "TAG": "T", "TYPE": "Events", "TIMESTAMP": TS}]


def test_missing_fields_are_null(ksql: FakeKSQLDB) -> None:
    ksql.broker.produce("ofa_assets", "A", b'{"ID": "x"}')
    # TIMESTAMP is COALESCE(attributes['timestamp'], 'UNAVAILABLE') on the platform (§9.5)
    assert ksql.query("SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets") == [
        {"VALUE": None, "TYPE": None, "TAG": None, "TIMESTAMP": "UNAVAILABLE"}
    ]


def test_assets_type_comes_from_openfactory_asset_type_records(ksql: FakeKSQLDB) -> None:
    publish(ksql, "A", "AssetType", "Device", "OpenFactory")
    publish(ksql, "B", "AssetType", "NotThis", "Events")  # only TYPE='OpenFactory' counts
    publish(ksql, "A", "AssetType", "OpenFactoryApp", "OpenFactory")
    assert ksql.query("SELECT * FROM assets_type") == [
        {"ASSET_UUID": "A", "TYPE": "OpenFactoryApp"}
    ]


def test_assets_avail_comes_from_avail_and_agent_avail(ksql: FakeKSQLDB) -> None:
    publish(ksql, "APP", "avail", "AVAILABLE")
    publish(ksql, "DEV", "agent_avail", "UNAVAILABLE")
    publish(ksql, "DEV", "availability", "ignored")
    publish(ksql, "APP", "avail", "UNAVAILABLE")
    assert ksql.query("SELECT ASSET_UUID, AVAILABILITY FROM assets_avail") == [
        {"ASSET_UUID": "APP", "AVAILABILITY": "UNAVAILABLE"},
        {"ASSET_UUID": "DEV", "AVAILABILITY": "UNAVAILABLE"},
    ]


def test_docker_services_comes_from_docker_service_records(ksql: FakeKSQLDB) -> None:
    publish(ksql, "A", "DockerService", "a-service", "OpenFactory")
    assert ksql.query("SELECT * FROM docker_services") == [
        {"ASSET_UUID": "A", "DOCKER_SERVICE": "a-service"}
    ]


@pytest.mark.parametrize(("table", "topic"), TABLE_TOPICS.items())
def test_a_tombstone_on_a_table_topic_deletes_that_assets_row(
    ksql: FakeKSQLDB, table: str, topic: str
) -> None:
    for asset in ("A", "B"):
        publish(ksql, asset, "AssetType", "Device", "OpenFactory")
        publish(ksql, asset, "avail", "AVAILABLE")
        publish(ksql, asset, "DockerService", "svc", "OpenFactory")
    ksql.broker.produce(topic, "A", None)
    ksql.broker.produce(topic, "nobody", None)
    assert [row["ASSET_UUID"] for row in ksql.query(f"SELECT * FROM {table}")] == ["B"]
    others = set(TABLE_TOPICS) - {table}
    assert all(len(ksql.query(f"SELECT * FROM {other}")) == 2 for other in others)
    assert len(ksql.query("SELECT * FROM assets WHERE ASSET_UUID = 'A'")) == 3


def test_a_json_record_on_a_table_topic_upserts_its_row(ksql: FakeKSQLDB) -> None:
    ksql.broker.produce("assets_avail_topic", "A", b'{"AVAILABILITY": "AVAILABLE"}')
    assert ksql.query("SELECT * FROM assets_avail") == [
        {"ASSET_UUID": "A", "AVAILABILITY": "AVAILABLE"}
    ]


def test_a_tombstone_on_the_assets_stream_is_ignored(ksql: FakeKSQLDB) -> None:
    publish(ksql, "A", "x", 1)
    ksql.broker.produce("ofa_assets", "A", None)
    assert len(ksql.query("SELECT * FROM assets")) == 1


@pytest.mark.parametrize(
    ("topic", "key", "value"),
    [
        ("ofa_assets", "A", b"not json"),
        ("ofa_assets", "A", b"[1, 2]"),
        ("ofa_assets", "A", b'"a string"'),
        ("ofa_assets", "A", b'{"VALUE": 1}'),
        ("ofa_assets", "A", b'{"ID": 7, "VALUE": 1}'),
        ("ofa_assets", None, asset_record("x", 1, "T", "Events", TS)),
        ("assets_avail_topic", "A", b"\xff\xfe"),
        ("assets_avail_topic", None, None),
    ],
)
def test_garbage_records_are_logged_and_skipped(
    ksql: FakeKSQLDB,
    caplog: pytest.LogCaptureFixture,
    topic: str,
    key: str | None,
    value: bytes | None,
) -> None:
    seen: list[Any] = []
    ksql.broker.subscribe(topic, None, seen.append)
    with caplog.at_level(logging.WARNING, logger="openfactory.testing.memory.ksqldb"):
        ksql.broker.produce(topic, key, value)
    assert "ignoring" in caplog.text
    assert len(seen) == 1  # delivery to other subscribers went on
    queryable = [table for table in ksql.tables() if table != "ASSET_TO_UNS_MAP_RAW"]
    assert all(ksql.query(f"SELECT * FROM {table}") == [] for table in queryable)
    publish(ksql, "A", "avail", "AVAILABLE")
    assert len(ksql.query("SELECT * FROM assets_avail")) == 1


def test_records_already_on_the_broker_are_materialized_once() -> None:
    broker = FakeBroker()
    broker.produce("ofa_assets", "A", asset_record("avail", "AVAILABLE", "T", "Events", TS))
    broker.produce("ofa_assets", "A", asset_record("x", 1, "T", "Samples", TS))
    broker.produce("assets_avail_topic", "A", None)
    fake = FakeKSQLDB(broker)
    assert fake.query("SELECT ID FROM assets") == [{"ID": "avail"}, {"ID": "x"}]
    assert fake.query("SELECT * FROM assets_avail") == []
    broker.produce("ofa_assets", "A", asset_record("x", 2, "T", "Samples", TS))
    assert fake.query("SELECT VALUE FROM assets WHERE ID='x'") == [{"VALUE": "2"}]


def test_records_published_from_several_threads(ksql: FakeKSQLDB) -> None:
    def produce(worker: int) -> None:
        for n in range(50):
            publish(ksql, f"A{worker}", f"attr{n}", n)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert ksql.broker.flush(5.0) == 0
    assert len(ksql.query("SELECT * FROM assets")) == 8 * 50
    assert ksql.query("SELECT VALUE FROM assets WHERE ASSET_UUID='A3' AND ID='attr49'") == [
        {"VALUE": "49"}
    ]


def test_close_is_a_client_close_the_tables_keep_following() -> None:
    fake = FakeKSQLDB()
    fake.close()
    publish(fake, "A", "x", 1)
    assert fake.query("SELECT ID FROM assets") == [{"ID": "x"}]
    fake.open_transport().close()


def test_stop_stops_materializing_and_is_idempotent() -> None:
    fake = FakeKSQLDB()
    publish(fake, "A", "x", 1)
    fake.stop()
    fake.stop()
    publish(fake, "A", "y", 2)
    assert fake.query("SELECT ID FROM assets") == [{"ID": "x"}]
    assert error_of(fake.open_transport).error_code == 40000
    assert error_of(fake.insert_into_stream, "ASSETS_STREAM", []).error_code == 40000
    assert "ASSETS=1" in repr(fake)


def test_open_transport_is_an_in_memory_transport_on_this_fake(ksql: FakeKSQLDB) -> None:
    transport = ksql.open_transport()
    assert isinstance(transport, InMemoryTransport)
    assert transport.broker is ksql.broker and transport.ksqldb is ksql
    assert transport.topic_for("assets_stream") == "ofa_assets"
    transport.publish("ofa_assets", "A", asset_record("x", 1, "T", "Events", TS))
    assert transport.query("SELECT ID FROM assets;") == [{"ID": "x"}]
    transport.close()


# pull queries ------------------------------------------------------------------------------
@pytest.fixture
def populated(ksql: FakeKSQLDB) -> FakeKSQLDB:
    publish(ksql, "A", "avail", "AVAILABLE", "Events", "Availability")
    publish(ksql, "A", "temp", 20, "Samples", "Temperature")
    publish(ksql, "A", "note", None, "Events", "Note")
    publish(ksql, "B", "avail", "UNAVAILABLE", "Events", "Availability")
    publish(ksql, "B", "temp", 30, "Samples", "Temperature")
    return ksql


def ids(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["ASSET_UUID"], row["ID"]) for row in rows]


def test_select_columns_in_the_order_asked(populated: FakeKSQLDB) -> None:
    names, types, rows = populated.pull_query(
        "select tag, Id, VALUE from assets where asset_uuid = 'B' and id = 'temp';"
    )
    assert (names, types, rows) == (["TAG", "ID", "VALUE"], ["STRING"] * 3, [
        ["Temperature", "temp", "30"]
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("ID = 'temp'", [("A", "temp"), ("B", "temp")]),
        ("ID != 'temp'", [("A", "avail"), ("A", "note"), ("B", "avail")]),
        ("ID <> 'temp' AND ASSET_UUID = 'B'", [("B", "avail")]),
        ("ASSET_UUID = 'A' AND ID = 'temp' AND TYPE = 'Samples'", [("A", "temp")]),
        ("'B' = ASSET_UUID", [("B", "avail"), ("B", "temp")]),
        ("ID = 'TEMP'", []),  # string comparison is exact
        ("VALUE != 'x' AND ASSET_UUID = 'A'", [("A", "avail"), ("A", "temp")]),  # NULL excluded
        ("KEY = 'A|temp'", [("A", "temp")]),
    ],
)
def test_where_conditions(populated: FakeKSQLDB, where: str, expected: list[Any]) -> None:
    assert ids(populated.query(f"SELECT * FROM assets WHERE {where};")) == expected


def test_limit(populated: FakeKSQLDB) -> None:
    assert len(populated.query("SELECT * FROM assets LIMIT 2")) == 2
    assert populated.query("SELECT * FROM assets LIMIT 0") == []
    assert len(populated.query("SELECT * FROM assets WHERE ID='temp' LIMIT 10")) == 2


def test_quoted_identifiers_are_case_sensitive_like_ksqldb(populated: FakeKSQLDB) -> None:
    assert len(populated.query('SELECT `ID` FROM "ASSETS" WHERE "ASSET_UUID" = \'A\'')) == 3
    error = error_of(populated.query, "SELECT * FROM `assets`")
    assert error.message == "line 1:15: assets does not exist."
    error = error_of(populated.query, 'SELECT "id" FROM assets')
    assert error.message == "line 1:8: SELECT column 'id' cannot be resolved."


@pytest.mark.parametrize(
    ("sql", "code", "message"),
    [
        ("SELECT * FROM nope", 40001, "line 1:15: NOPE does not exist."),
        ("SELECT FOO FROM assets", 40001, "line 1:8: SELECT column 'FOO' cannot be resolved."),
        ("SELECT * FROM assets WHERE BAR = 'x'", 40001,
         "line 1:28: WHERE column 'BAR' cannot be resolved."),
        ("SELECT ID FROM assets_avail", 40001, "SELECT column 'ID' cannot be resolved."),
        ("SELECT * FROM assets_stream", 40002,
         "line 1:15: Pull queries are not supported on streams: ASSETS_STREAM is a STREAM."),
        ("SELECT * FROM asset_to_uns_map_raw", 40001, "table isn't queryable"),
        ("SELECT * FROM assets WHERE VALUE = 20", 40001,
         "line 1:28: Cannot compare VALUE (STRING) to 20 (INTEGER) with EQUAL."),
        ("SELECT * FROM assets WHERE ID != TRUE", 40001,
         "Cannot compare ID (STRING) to TRUE (BOOLEAN) with NOT_EQUAL."),
        ("SELECT * FROM assets WHERE VALUE = NULL", 40001,
         "Comparison with NULL not supported: VALUE = NULL"),
        ("SELECT * FROM assets WHERE ID = 'x' OR ID = 'y'", 40001, "Only AND expressions"),
        ("SELECT * FROM assets WHERE ID = 'x", 40001, "token recognition error"),
        ("SHOW TABLES;", 40002, "SHOW is not a query"),
    ],
)  # fmt: skip
def test_rejected_queries(populated: FakeKSQLDB, sql: str, code: int, message: str) -> None:
    for run in (populated.query, populated.pull_query):
        error = error_of(run, sql)
        assert (error.error_code, error.status_code) == (code, 400)
        assert message in error.message


def test_query_needs_a_string(ksql: FakeKSQLDB) -> None:
    error = error_of(ksql.query, b"SELECT * FROM assets")
    assert error.error_code == 40000
    assert "sql must be a str, got bytes" in error.message


# /ksql statements --------------------------------------------------------------------------
def test_describe_extended_answers_a_source_description(ksql: FakeKSQLDB) -> None:
    (entity,) = ksql.statement_query("DESCRIBE ASSETS_STREAM EXTENDED;")
    assert entity["@type"] == "sourceDescription"
    assert entity["statementText"] == "DESCRIBE ASSETS_STREAM EXTENDED;"
    assert entity["warnings"] == []
    description = entity["sourceDescription"]
    assert description["name"] == "ASSETS_STREAM"
    assert description["topic"] == "ofa_assets"
    assert description["type"] == "STREAM"
    assert description["extended"] is True
    assert (description["keyFormat"], description["valueFormat"]) == ("KAFKA", "JSON")
    assert (description["partitions"], description["replication"]) == (1, 1)
    assert description["fields"][0] == {
        "name": "ASSET_UUID",
        "schema": {"type": "STRING", "fields": None, "memberSchema": None},
        "type": "KEY",
    }
    assert [field["name"] for field in description["fields"]] == [
        "ASSET_UUID", "ID", "VALUE", "TAG", "TYPE", "ATTRIBUTES"
    ]  # fmt: skip
    assert description["fields"][-1]["schema"]["type"] == "MAP"
    assert description["fields"][-1]["schema"]["memberSchema"]["type"] == "STRING"
    assert "KAFKA_TOPIC='ofa_assets'" in description["statement"]
    for key in ("readQueries", "writeQueries", "windowType", "statistics", "errorStats"):
        assert key in description


@pytest.mark.parametrize(
    ("name", "kind", "topic", "key"),
    [
        ("assets", "TABLE", "assets_topic", "KEY"),
        ("assets_type", "TABLE", "assets_types_topic", "ASSET_UUID"),
        ("asset_to_uns_map_raw", "TABLE", "asset_to_uns_map_topic", "ASSET_UUID"),
    ],
)
def test_describe_without_extended(
    ksql: FakeKSQLDB, name: str, kind: str, topic: str, key: str | None
) -> None:
    description = ksql.statement_query(f"describe {name};")[0]["sourceDescription"]
    assert (description["name"], description["type"]) == (name.upper(), kind)
    assert (description["topic"], description["extended"]) == (topic, False)
    assert description["partitions"] == 0
    assert [f["name"] for f in description["fields"] if f.get("type") == "KEY"] == (
        [key] if key else []
    )


def test_describe_an_unknown_source(ksql: FakeKSQLDB) -> None:
    error = error_of(ksql.statement_query, "DESCRIBE nothing EXTENDED;")
    assert error.error_code == 40001
    assert error.message == "Could not find STREAM/TABLE 'NOTHING' in the Metastore"


def test_show_and_list_streams_and_tables(ksql: FakeKSQLDB) -> None:
    streams, tables = ksql.statement_query("SHOW STREAMS; LIST TABLES;")
    assert streams["@type"] == "streams"
    assert streams["statementText"] == "SHOW STREAMS;"
    assert streams["streams"][0] == {
        "type": "STREAM",
        "name": "ASSETS_STREAM",
        "topic": "ofa_assets",
        "keyFormat": "KAFKA",
        "valueFormat": "JSON",
        "isWindowed": False,
    }
    assert [s["name"] for s in streams["streams"]] == ksql.streams()
    assert tables["@type"] == "tables"
    assert [(t["name"], t["topic"]) for t in tables["tables"]] == [
        ("ASSETS", "assets_topic"),
        ("ASSETS_TYPE", "assets_types_topic"),
        ("ASSETS_AVAIL", "assets_avail_topic"),
        ("DOCKER_SERVICES", "docker_services_topic"),
        ("ASSET_TO_UNS_MAP_RAW", "asset_to_uns_map_topic"),
        ("ASSET_TO_UNS_MAP", "ASSET_TO_UNS_MAP"),
        ("ASSETS_UNS", "assets_uns_topic"),
        ("METRICS_TARGETS_SOURCE", "metrics_targets_topic"),
    ]
    assert ksql.statement_query("list streams;")[0]["streams"] == streams["streams"]


def test_show_extended_answers_source_descriptions(ksql: FakeKSQLDB) -> None:
    (entity,) = ksql.statement_query("SHOW TABLES EXTENDED;")
    assert entity["@type"] == "source_descriptions"
    assert [d["name"] for d in entity["sourceDescriptions"]] == ksql.tables()
    assert all(d["extended"] for d in entity["sourceDescriptions"])


@pytest.mark.parametrize(
    ("sql", "code", "fragment"),
    [
        ("SELECT * FROM assets;", 40002, "websocket endpoint '/query'"),
        ("CREATE TABLE t (a STRING PRIMARY KEY) WITH (KAFKA_TOPIC='t');", 40001, "CREATE"),
        ("SHOW STREAMS", 40001, "expecting ';'"),
        ("", 40000, "no statement"),
    ],
)
def test_rejected_statements(ksql: FakeKSQLDB, sql: str, code: int, fragment: str) -> None:
    error = error_of(ksql.statement_query, sql)
    assert error.error_code == code
    assert fragment in error.message


# inserts -----------------------------------------------------------------------------------
def test_insert_into_a_table_publishes_json_keyed_by_its_key(ksql: FakeKSQLDB) -> None:
    rows = [
        {"asset_uuid": "A", "uns_id": None, "uns_levels": None, "updated_at": 1},
        {"ASSET_UUID": "B", "UNS_ID": "x/y", "UPDATED_AT": 2},
    ]
    acks = ksql.insert_into_stream("asset_to_uns_map_raw", rows)
    assert acks == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]
    records = ksql.broker.records("asset_to_uns_map_topic")
    assert [r.key for r in records] == ["A", "B"]
    assert [r.json() for r in records] == [  # the key column travels in the key only
        {"uns_id": None, "uns_levels": None, "updated_at": 1},
        {"UNS_ID": "x/y", "UPDATED_AT": 2},
    ]


def test_insert_into_the_assets_stream_is_materialized(ksql: FakeKSQLDB) -> None:
    row = {"ASSET_UUID": "A", "ID": "avail", "VALUE": "AVAILABLE", "TAG": "Availability",
           "TYPE": "Events", "attributes": {"timestamp": TS}}  # fmt: skip
    assert ksql.insert_into_stream("ASSETS_STREAM", [row]) == [{"status": "ok", "seq": 0}]
    (record,) = ksql.broker.records("ofa_assets")
    assert record.key == "A"
    assert "ASSET_UUID" not in record.json()  # the key column travels in the key
    assert ksql.query("SELECT * FROM assets_avail") == [
        {"ASSET_UUID": "A", "AVAILABILITY": "AVAILABLE"}
    ]


@pytest.mark.parametrize(
    ("stream", "rows", "code", "fragment"),
    [
        ("nope", [], 40001, "Cannot insert values into an unknown stream/table: `NOPE`"),
        ("assets", [], 40001, "Cannot insert values into read-only table: `ASSETS`"),
        (42, [], 40000, "stream name must be a str"),
        ("ASSETS_STREAM", {"ID": "x"}, 40000, "rows must be a list of dicts"),
        ("ASSETS_STREAM", [{"ID": "x"}, "row"], 40000, "row 1 must be a dict"),
        ("ASSETS_STREAM", [{"ID": "x"}, {"COLOR": "red"}], 40001,
         "row 1: stream ASSETS_STREAM has no column 'COLOR'"),
        ("ASSETS_STREAM", [{"ASSET_UUID": 7}], 40000, "ASSET_UUID must be a str, got 7"),
        ("ASSETS_STREAM", [{"VALUE": {1, 2}}], 40000, "row 0 is not JSON-serializable"),
    ],
)  # fmt: skip
def test_rejected_inserts_publish_nothing(
    ksql: FakeKSQLDB, stream: Any, rows: Any, code: int, fragment: str
) -> None:
    error = error_of(ksql.insert_into_stream, stream, rows)
    assert error.error_code == code
    assert fragment in error.message
    assert ksql.broker.records("ofa_assets") == []


def test_insert_acks_report_delivery_failures(ksql: FakeKSQLDB) -> None:
    ksql.broker.fail_next(1, "disk full")
    rows = [{"ASSET_UUID": "A", "UPDATED_AT": 1}, {"ASSET_UUID": "A", "UPDATED_AT": 2}]
    acks = ksql.insert_into_stream("ASSET_TO_UNS_MAP_RAW", rows)
    assert acks == [
        {"status": "error", "seq": 0, "error_code": 50000, "message": "disk full"},
        {"status": "ok", "seq": 1},
    ]


def test_insert_acks_report_records_held_by_a_disconnected_broker(ksql: FakeKSQLDB) -> None:
    ksql.broker.disconnect()
    (ack,) = ksql.insert_into_stream("ASSET_TO_UNS_MAP_RAW", [{"ASSET_UUID": "A", "UPDATED_AT": 1}])
    assert ack["status"] == "error" and "disconnected" in ack["message"]
    ksql.broker.reconnect()
    assert len(ksql.broker.records("asset_to_uns_map_topic")) == 1


# property: ksql_string-built queries select exactly the right rows -------------------------
TRICKY = st.sampled_from(
    ["", "'", "''", "\\", "\\'", "' OR '1'='1", "SELECT", "AND", "WHERE", "a|b", "é", "日本",
     "--", ";", '"', "`", "\n", "NULL", " "]
)  # fmt: skip
NAMES = st.one_of(TRICKY, st.text(max_size=8), st.builds(str.__add__, TRICKY, st.text(max_size=4)))


def variants(text: str) -> set[str]:
    return {text, text + "'", "'" + text, text.upper(), text.lower(), text + " ", text + "x",
            text.replace("'", "''")}  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uuid=NAMES, attr=NAMES, probe=st.integers(min_value=0, max_value=63))
def test_ksql_string_queries_select_exactly_the_matching_rows(
    uuid: str, attr: str, probe: int
) -> None:
    fake = FakeKSQLDB()
    table: dict[str, tuple[str, str, str]] = {}  # the model: latest record per KEY
    assets, attrs = sorted(variants(uuid)), sorted(variants(attr))
    for a in assets:
        for i in attrs:
            publish(fake, a, i, f"{a!r}/{i!r}")
            table[f"{a}|{i}"] = (a, i, f"{a!r}/{i!r}")
    targets = [(uuid, attr), (assets[probe % len(assets)], attrs[probe // 8 % len(attrs)])]
    for u, i in targets:
        sql = f"SELECT * FROM assets WHERE ASSET_UUID={ksql_string(u)} AND ID={ksql_string(i)};"
        rows = fake.query(sql)
        assert [(r["ASSET_UUID"], r["ID"], r["VALUE"]) for r in rows] == [
            row for row in table.values() if row[:2] == (u, i)
        ]
        by_asset = fake.query(f"SELECT ID FROM assets WHERE ASSET_UUID={ksql_string(u)}")
        assert sorted(r["ID"] for r in by_asset) == sorted(
            row[1] for row in table.values() if row[0] == u
        )
    fake.close()
