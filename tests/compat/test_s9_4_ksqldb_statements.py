"""Reference §9.4: every ksqlDB statement the platform's library issues, verbatim, answered by
the fake ksqlDB in memory and over HTTP (our ``KSQLDBClient`` on HTTP/1.1 and h2c, and a client
speaking as the platform's does: ``POST /query`` with ``{"ksql": ...}`` over h2c only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from openfactory.errors import KSQLDBError
from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
PUMP = "PUMP-001"  # an app
DEVICE = "dev-42"  # a device, lower-case UUID
REGISTRY = "PROM-REGISTRY"
UNS = "factory/line-1/pump-001"
CONTRACT = json.dumps({"description": "Move", "arguments": [{"name": "x", "description": "X"}]})
UPDATED_AT = 1_777_897_296_789  # 2026-05-04T12:21:36.789 UTC

# (attribute, value, tag, type) as the platform's deployer and apps publish them (§9.2)
PUMP_RECORDS = [
    ("AssetType", "OpenFactoryApp", "AssetType", "OpenFactory"),
    ("DockerService", "pump-001", "DockerService", "OpenFactory"),
    ("references_below", "", "AssetsReferences", "OpenFactory"),
    ("references_above", "LINE-1", "AssetsReferences", "OpenFactory"),
    ("avail", "AVAILABLE", "Availability", "Events"),
    ("temp", 21.5, "Temperature", "Samples"),
    ("status", "idle", "App.Status", "Events"),
    ("alarm", "Normal", "Alarm", "Condition"),
    ("move_axis", CONTRACT, "Method", "Method"),
    ("move_axis_CMD", "", "Method.Command", "OpenFactory"),
]
UNS_RECORDS = [
    ("temp", 21.5, "Temperature", "Samples"),
    ("status", "idle", "App.Status", "Events"),
    ("move_axis", CONTRACT, "Method", "Method"),
    ("references_above", "LINE-1", "AssetsReferences", "OpenFactory"),
]


def populate(ksql: FakeKSQLDB) -> None:
    """Publish on the fake's broker what a small platform deployment holds."""
    broker = ksql.broker
    for attr, value, tag, type_ in PUMP_RECORDS:
        broker.produce("ofa_assets", PUMP, asset_record(attr, value, tag, type_, TS))
    for attr, value, tag, type_ in [
        ("AssetType", "Device", "AssetType", "OpenFactory"),
        ("DockerService", "dev-42", "DockerService", "OpenFactory"),
        ("agent_avail", "UNAVAILABLE", "Availability", "Events"),
    ]:
        broker.produce("ofa_assets", DEVICE, asset_record(attr, value, tag, type_, TS))
    registry = asset_record("AssetType", "Prometheus.Registry", "AssetType", "OpenFactory", TS)
    broker.produce("ofa_assets", REGISTRY, registry)
    levels = {"area": "factory", "line": "line-1", "asset": "pump-001"}
    mapping = {"ASSET_UUID": PUMP, "UNS_ID": UNS, "UNS_LEVELS": levels, "UPDATED_AT": UPDATED_AT}
    broker.produce("asset_to_uns_map_topic", PUMP, json.dumps(mapping).encode())
    for attr, value, tag, type_ in UNS_RECORDS:
        record = {"ASSET_UUID_KEY": PUMP, "ASSET_UUID": PUMP, "ID": attr, "VALUE": value,
                  "TAG": tag, "TYPE": type_, "attributes": {"timestamp": TS}}  # fmt: skip
        broker.produce("ofa_assets_uns", UNS, json.dumps(record).encode())


# the clients --------------------------------------------------------------------------------
@dataclass
class Client:
    """One way to reach the fake: pull queries and /ksql statements."""

    query: Callable[[str], list[dict[str, Any]]]
    statement: Callable[[str], list[dict[str, Any]]]


def platform_query(http: httpx.Client, sql: str) -> list[dict[str, Any]]:
    """A pull query as the platform's client sends and reads it (reference §6)."""
    response = http.post("/query", json={"ksql": sql, "streamsProperties": {}})
    if response.status_code != 200:
        error = response.json()
        raise KSQLDBError(error["message"], error["error_code"], response.status_code)
    assert response.http_version == "HTTP/2"
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    (columns,) = [line["columnNames"] for line in lines if isinstance(line, dict)]
    return [dict(zip(columns, line, strict=True)) for line in lines if isinstance(line, list)]


def platform_statement(http: httpx.Client, sql: str) -> list[dict[str, Any]]:
    """A /ksql statement as the platform's client sends it (reference §6)."""
    headers = {"Accept": "application/vnd.ksql.v1+json"}
    response = http.post("/ksql", json={"ksql": sql}, headers=headers)
    if response.status_code != 200:
        error = response.json()
        raise KSQLDBError(error["message"], error["error_code"], response.status_code)
    assert response.http_version == "HTTP/2"
    body = response.json()
    assert isinstance(body, list)
    return body


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKSQLDBServer]:
    ksql = FakeKSQLDB(FakeBroker())
    populate(ksql)
    with FakeKSQLDBServer(ksql) as running:
        yield running
    ksql.stop()


@pytest.fixture(params=["memory", "KSQLDBClient-http1.1", "KSQLDBClient-h2c", "platform-h2c"])
def client(request: pytest.FixtureRequest, server: FakeKSQLDBServer) -> Iterator[Client]:
    if request.param == "memory":
        yield Client(server.ksqldb.query, server.ksqldb.statement_query)
    elif request.param.startswith("KSQLDBClient"):
        h2 = request.param.endswith("h2c")
        with KSQLDBClient(server.url, http2=h2, max_retries=0) as ksql:
            yield Client(ksql.query, ksql.statement_query)
            assert ksql.http_version == ("HTTP/2" if h2 else "HTTP/1.1")
    else:
        with httpx.Client(base_url=server.url, http1=False, http2=True, timeout=5) as http:
            yield Client(
                lambda sql: platform_query(http, sql), lambda sql: platform_statement(http, sql)
            )


def unordered(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


# the statements of §9.4, values interpolated between single quotes -------------------------
PUMP_NON_METHOD = ["AssetType", "DockerService", "references_below", "references_above",
                   "avail", "temp", "status", "alarm", "move_axis_CMD"]  # fmt: skip
UNS_NON_METHOD = ["temp", "status", "references_above"]


def _rows(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    return list(rows)


PULL_QUERIES: list[tuple[str, str, list[dict[str, Any]]]] = [
    ("type", f"SELECT TYPE FROM assets_type WHERE ASSET_UUID='{PUMP}';",
     _rows({"TYPE": "OpenFactoryApp"})),
    ("attributes", f"SELECT ID FROM assets WHERE asset_uuid='{PUMP}' AND TYPE != 'Method';",
     [{"ID": i} for i in PUMP_NON_METHOD]),
    ("attributes-uns", f"SELECT ID FROM assets_uns WHERE uns_id='{UNS}' AND TYPE != 'Method';",
     [{"ID": i} for i in UNS_NON_METHOD]),
    ("samples",
     f"SELECT ID, VALUE, TAG, TYPE FROM assets WHERE asset_uuid='{PUMP}' AND TYPE='Samples';",
     _rows({"ID": "temp", "VALUE": "21.5", "TAG": "Temperature", "TYPE": "Samples"})),
    ("events",
     f"SELECT ID, VALUE, TAG, TYPE FROM assets WHERE asset_uuid='{PUMP}' AND TYPE='Events';",
     _rows({"ID": "avail", "VALUE": "AVAILABLE", "TAG": "Availability", "TYPE": "Events"},
           {"ID": "status", "VALUE": "idle", "TAG": "App.Status", "TYPE": "Events"})),
    ("conditions",
     f"SELECT ID, VALUE, TAG, TYPE FROM assets WHERE asset_uuid='{PUMP}' AND TYPE='Condition';",
     _rows({"ID": "alarm", "VALUE": "Normal", "TAG": "Alarm", "TYPE": "Condition"})),
    ("samples-uns",
     f"SELECT ID, VALUE, TAG, TYPE FROM assets_uns WHERE uns_id='{UNS}' AND TYPE='Samples';",
     _rows({"ID": "temp", "VALUE": "21.5", "TAG": "Temperature", "TYPE": "Samples"})),
    ("methods", f"SELECT ID, VALUE, TYPE FROM assets WHERE asset_uuid='{PUMP}' AND TYPE='Method';",
     _rows({"ID": "move_axis", "VALUE": CONTRACT, "TYPE": "Method"})),
    ("methods-uns",
     f"SELECT ID, VALUE, TYPE FROM assets_uns WHERE uns_id='{UNS}' AND TYPE='Method';",
     _rows({"ID": "move_axis", "VALUE": CONTRACT, "TYPE": "Method"})),
    ("getattr", f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE key='{PUMP}|temp';",
     _rows({"VALUE": "21.5", "TYPE": "Samples", "TAG": "Temperature", "TIMESTAMP": TS})),
    ("getattr-uns", f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets_uns WHERE key='{UNS}|temp';",
     _rows({"VALUE": "21.5", "TYPE": "Samples", "TAG": "Temperature", "TIMESTAMP": TS})),
    ("getattr-unknown",
     f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE key='{PUMP}|nothing';", []),
    ("resync", f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE asset_uuid='{PUMP}' "
     "AND TYPE != 'Method';",
     [{"ID": attr, "VALUE": "21.5" if attr == "temp" else value, "TYPE": type_, "TAG": tag,
       "TIMESTAMP": TS} for attr, value, tag, type_ in PUMP_RECORDS if type_ != "Method"]),
    ("resync-uns", f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM assets_uns WHERE uns_id='{UNS}' "
     "AND TYPE != 'Method';",
     [{"ID": attr, "VALUE": "21.5" if attr == "temp" else value, "TYPE": type_, "TAG": tag,
       "TIMESTAMP": TS} for attr, value, tag, type_ in UNS_RECORDS if type_ != "Method"]),
    ("wait_until", f"SELECT VALUE, TYPE, TIMESTAMP FROM assets WHERE key='{PUMP}|status';",
     _rows({"VALUE": "idle", "TYPE": "Events", "TIMESTAMP": TS})),
    ("wait_until-uns", f"SELECT VALUE, TYPE, TIMESTAMP FROM assets_uns WHERE key='{UNS}|status';",
     _rows({"VALUE": "idle", "TYPE": "Events", "TIMESTAMP": TS})),
    ("references_below", f"SELECT VALUE FROM assets WHERE key='{PUMP}|references_below';",
     _rows({"VALUE": ""})),
    ("references_above", f"SELECT VALUE FROM assets WHERE key='{PUMP}|references_above';",
     _rows({"VALUE": "LINE-1"})),
    ("references-uns", f"SELECT VALUE FROM assets_uns WHERE key='{UNS}|references_above';",
     _rows({"VALUE": "LINE-1"})),
    ("AssetUNS.asset_uuid", f"SELECT asset_uuid FROM asset_to_uns_map WHERE uns_id='{UNS}';",
     _rows({"ASSET_UUID": PUMP})),
    ("metrics registry",
     "select ASSET_UUID from ASSETS_TYPE where TYPE='Prometheus.Registry';",
     _rows({"ASSET_UUID": REGISTRY})),
    ("all asset types", "SELECT ASSET_UUID FROM assets_type;",
     _rows({"ASSET_UUID": PUMP}, {"ASSET_UUID": DEVICE}, {"ASSET_UUID": REGISTRY})),
    ("apps", "SELECT ASSET_UUID FROM assets_type WHERE TYPE = 'OpenFactoryApp';",
     _rows({"ASSET_UUID": PUMP})),
    ("devices", "SELECT ASSET_UUID FROM assets_type WHERE TYPE = 'Device';",
     _rows({"ASSET_UUID": DEVICE})),
    ("availability", "SELECT * FROM assets_avail;",
     _rows({"ASSET_UUID": PUMP, "AVAILABILITY": "AVAILABLE"},
           {"ASSET_UUID": DEVICE, "AVAILABILITY": "UNAVAILABLE"})),
    ("docker services", "SELECT * FROM docker_services;",
     _rows({"ASSET_UUID": PUMP, "DOCKER_SERVICE": "pump-001"},
           {"ASSET_UUID": DEVICE, "DOCKER_SERVICE": "dev-42"})),
]  # fmt: skip

DESCRIBES = [
    ("DESCRIBE ASSETS_STREAM EXTENDED;", "ASSETS_STREAM", "STREAM", "ofa_assets"),
    ("DESCRIBE assets_type EXTENDED;", "ASSETS_TYPE", "TABLE", "assets_types_topic"),
    ("DESCRIBE assets_avail EXTENDED;", "ASSETS_AVAIL", "TABLE", "assets_avail_topic"),
    ("DESCRIBE docker_services EXTENDED;", "DOCKER_SERVICES", "TABLE", "docker_services_topic"),
    ("DESCRIBE asset_to_uns_map_raw EXTENDED;", "ASSET_TO_UNS_MAP_RAW", "TABLE",
     "asset_to_uns_map_topic"),
    ("DESCRIBE METRICS_TARGETS_SOURCE EXTENDED;", "METRICS_TARGETS_SOURCE", "TABLE",
     "metrics_targets_topic"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sql", "expected"),
    [(sql, rows) for _, sql, rows in PULL_QUERIES],
    ids=[c for c, *_ in PULL_QUERIES],
)
def test_every_pull_query_of_the_platform_is_answered(
    client: Client, sql: str, expected: list[dict[str, Any]]
) -> None:
    rows = client.query(sql)
    assert unordered(rows) == unordered(expected)
    for row in rows:
        assert list(row) == list(expected[0])  # columns in the order asked


@pytest.mark.parametrize(("sql", "name", "kind", "topic"), DESCRIBES, ids=[d[1] for d in DESCRIBES])
def test_every_describe_of_the_platform_gives_the_topic(
    client: Client, sql: str, name: str, kind: str, topic: str
) -> None:
    (entity,) = client.statement(sql)
    assert entity["@type"] == "sourceDescription"
    assert entity["statementText"] == sql
    description = entity["sourceDescription"]
    assert (description["name"], description["type"], description["topic"]) == (name, kind, topic)
    assert description["extended"] is True and description["partitions"] >= 1


def test_what_ksqldb_refuses_is_still_refused_with_its_error(client: Client) -> None:
    with pytest.raises(KSQLDBError) as caught:
        client.query(f"SELECT asset_uuid FROM asset_to_uns_map_raw WHERE uns_id='{UNS}';")
    assert caught.value.error_code == 40001
    assert "ASSET_TO_UNS_MAP_RAW` table isn't queryable" in caught.value.message
    with pytest.raises(KSQLDBError) as caught:
        client.query(f"SELECT ID FROM assets WHERE asset_uuid={PUMP} AND TYPE != 'Method';")
    assert caught.value.error_code == 40001  # an unquoted value is a column name to ksqlDB
    with pytest.raises(KSQLDBError) as caught:
        client.statement("DESCRIBE assets_stream_raw EXTENDED;")
    assert "ASSETS_STREAM_RAW" in caught.value.message
