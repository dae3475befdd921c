"""FakeKSQLDBServer: ksqlDB's REST surface over HTTP/1.1 and h2c, probed with plain httpx."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openfactory.errors import ConfigurationError
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.transport.wire import asset_record

DELIMITED = "application/vnd.ksqlapi.delimited.v1"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKSQLDBServer]:
    with FakeKSQLDBServer(FakeKSQLDB(FakeBroker())) as running:
        yield running


@pytest.fixture(params=["HTTP/1.1", "HTTP/2"], ids=["http1.1", "h2c"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def http(version: str, server: FakeKSQLDBServer) -> Iterator[httpx.Client]:
    h2 = version == "HTTP/2"
    with httpx.Client(base_url=server.url, http1=not h2, http2=h2, timeout=5) as client:
        yield client


def _lines(response: httpx.Response) -> list[Any]:
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_info_served_on_http1_and_h2c_on_one_port(
    http: httpx.Client, version: str, server: FakeKSQLDBServer
):
    response = http.get("/info")
    assert response.status_code == 200
    assert response.json() == server.ksqldb.info()
    assert response.http_version == version
    served = server.requests[-1]
    assert (served.method, served.path, served.status) == ("GET", "/info", 200)
    assert served.http_version == ("2" if response.http_version == "HTTP/2" else "1.1")


def test_ksql_statement(http: httpx.Client):
    response = http.post("/ksql", json={"ksql": "DESCRIBE ASSETS_STREAM EXTENDED;",
                                        "streamsProperties": {}})  # fmt: skip
    assert response.status_code == 200
    [entity] = response.json()
    assert entity["@type"] == "sourceDescription"
    assert entity["sourceDescription"]["topic"] == "ofa_assets"


def test_ksql_statement_error(http: httpx.Client):
    statement = "DROP STREAM ASSETS_STREAM;"
    response = http.post("/ksql", json={"ksql": statement, "streamsProperties": {}})
    assert response.status_code == 400
    body = response.json()
    assert body["@type"] == "statement_error"
    assert body["error_code"] == 40001
    assert body["statementText"] == statement
    assert body["message"]


@pytest.mark.parametrize(("path", "key"), [("/query-stream", "sql"), ("/query", "ksql")])
def test_pull_query_answers_delimited_lines(
    http: httpx.Client, version: str, server: FakeKSQLDBServer, path: str, key: str
):
    uuid = f"SERVED-{path}-{version}"
    record = asset_record("speed", "7", "Samples.Speed", "Samples", "2026-05-04T12:00:00.000Z")
    server.ksqldb.broker.produce("ofa_assets", uuid, record)
    sql = f"SELECT ID, VALUE FROM assets WHERE ASSET_UUID = '{uuid}';"
    response = http.post(path, json={key: sql, "properties": {}}, headers={"Accept": DELIMITED})
    assert response.status_code == 200
    assert response.headers["content-type"] == DELIMITED
    assert response.http_version == version
    header, *rows = _lines(response)
    assert header["columnNames"] == ["ID", "VALUE"]
    assert header["columnTypes"] == ["STRING", "STRING"]
    assert header["queryId"]
    assert rows == [["speed", "7"]]


def test_bad_pull_query(http: httpx.Client):
    response = http.post("/query-stream", json={"sql": "SELECT FROM;", "properties": {}})
    assert response.status_code == 400
    assert set(response.json()) >= {"@type", "error_code", "message"}


def test_inserts_stream_acks_each_row(http: httpx.Client, version: str, server: FakeKSQLDBServer):
    uuid = f"ROWS-{version}"
    rows = [{"ASSET_UUID": uuid, "ID": f"a{n}", "VALUE": str(n), "TAG": "t", "TYPE": "Events"}
            for n in range(3)]  # fmt: skip
    body = "\n".join(json.dumps(line) for line in [{"target": "ASSETS_STREAM"}, *rows])
    response = http.post("/inserts-stream", content=body, headers={"Content-Type": DELIMITED})
    assert response.status_code == 200
    assert _lines(response) == [{"status": "ok", "seq": n} for n in range(3)]
    assert response.http_version == version
    assert len(server.ksqldb.broker.records("ofa_assets", uuid)) == 3


@pytest.mark.parametrize(
    "body",
    [
        '{"target": "NO_SUCH"}\n{"ID": "x"}',
        '{"rows": 1}',
        "not json",
        '{"target": "ASSETS_STREAM"}\n[1]',
    ],
)
def test_inserts_stream_rejects_bad_input(http: httpx.Client, body: str):
    response = http.post("/inserts-stream", content=body)
    assert response.status_code == 400
    assert response.json()["error_code"] // 100 == 400


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/nope", None, 404, 40400),
        ("GET", "/ksql", None, 405, 40500),
        ("POST", "/ksql", b"{broken", 400, 40000),
        ("POST", "/ksql", b'{"sql": "SHOW STREAMS;"}', 400, 40000),
        ("POST", "/query-stream", b"[]", 400, 40000),
    ],
)
def test_errors_are_ksqldb_json(
    http: httpx.Client, method: str, path: str, body: bytes | None, status: int, code: int
):
    response = http.request(method, path, content=body)
    assert response.status_code == status
    error = response.json()
    assert error["@type"] == "generic_error"
    assert error["error_code"] == code
    assert error["message"]


def test_a_failing_fake_answers_500():
    class Broken(FakeKSQLDB):
        def info(self) -> dict[str, Any]:
            raise RuntimeError("boom")

    with FakeKSQLDBServer(Broken()) as server:
        response = httpx.get(server.url + "/info")
    assert response.status_code == 500
    assert response.json()["error_code"] == 50000
    assert "boom" in response.json()["message"]


# lifecycle --------------------------------------------------------------------------------
def test_lifecycle_start_stop_restart():
    server = FakeKSQLDBServer()
    assert isinstance(server.ksqldb, FakeKSQLDB)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    server.start()
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=url) as client:
        assert client.get("/info").status_code == 200  # open keep-alive connection at stop
        server.stop()
        assert not server.running
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/info")
    with server:
        assert httpx.get(server.url + "/info").status_code == 200


@pytest.mark.parametrize("port", [-1, 70000, "80", True])
def test_bad_port_is_a_configuration_error(port: object):
    with pytest.raises(ConfigurationError, match="port"):
        FakeKSQLDBServer(port=port)  # type: ignore[arg-type]


def test_bad_ksqldb_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="FakeKSQLDB"):
        FakeKSQLDBServer(ksqldb=FakeBroker())  # type: ignore[arg-type]


def test_port_in_use_is_an_os_error(server: FakeKSQLDBServer):
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        FakeKSQLDBServer(port=port).start()


def test_command_line_serves_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "openfactory.testing.loopback.ksqldb_server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/info", timeout=5).json()["KsqlServerInfo"]["serverStatus"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
