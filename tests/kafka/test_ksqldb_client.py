"""The production KSQLDBClient: over HTTP/1.1 and h2c against the fake ksqlDB server, and its
retry policy against httpx.MockTransport playing a failing server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.transport.wire import asset_record

URL = "http://ksqldb.test:8088"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKSQLDBServer]:
    with FakeKSQLDBServer(FakeKSQLDB(FakeBroker())) as running:
        yield running


@pytest.fixture(params=[False, True], ids=["http1.1", "h2c"])
def client(request: pytest.FixtureRequest, server: FakeKSQLDBServer) -> Iterator[KSQLDBClient]:
    with KSQLDBClient(server.url, http2=request.param, max_retries=0) as ksql:
        yield ksql


def _expected_version(client: KSQLDBClient) -> str:
    return "HTTP/2" if client.http2 else "HTTP/1.1"


# against the fake server ------------------------------------------------------------------
def test_info_over_the_negotiated_http_version(client: KSQLDBClient, server: FakeKSQLDBServer):
    info = client.info()
    assert info["KsqlServerInfo"]["serverStatus"] == "RUNNING"
    assert client.http_version == _expected_version(client)
    assert server.requests[-1].http_version == ("2" if client.http2 else "1.1")


def test_catalog(client: KSQLDBClient):
    assert "ASSETS_STREAM" in client.streams()
    assert {"ASSETS", "ASSETS_TYPE", "ASSETS_AVAIL", "DOCKER_SERVICES"} <= set(client.tables())
    assert client.get_kafka_topic("ASSETS_STREAM") == "ofa_assets"
    assert client.http_version == _expected_version(client)


def test_pull_query_sees_records_published_on_the_broker(
    client: KSQLDBClient, server: FakeKSQLDBServer
):
    uuid = f"PUMP-{int(client.http2)}"
    record = asset_record("speed", "42", "Samples.Speed", "Samples", "2026-05-04T12:00:00.000Z")
    server.ksqldb.broker.produce("ofa_assets", uuid, record)
    rows = client.query(f"SELECT ID, VALUE, TYPE FROM assets WHERE ASSET_UUID = '{uuid}';")
    assert rows == [{"ID": "speed", "VALUE": "42", "TYPE": "Samples"}]
    assert client.query(f"SELECT * FROM assets WHERE ASSET_UUID = '{uuid}-none'") == []
    assert client.http_version == _expected_version(client)


def test_statement_error_carries_ksqldb_code_and_message(client: KSQLDBClient):
    with pytest.raises(KSQLDBError) as caught:
        client.statement_query("DESCRIBE NO_SUCH_STREAM EXTENDED;")
    assert caught.value.status_code == 400
    assert caught.value.error_code == 40001
    assert "NO_SUCH_STREAM" in caught.value.message


def test_bad_pull_query_is_a_ksqldb_error(client: KSQLDBClient):
    with pytest.raises(KSQLDBError) as caught:
        client.query("SELECT * FROM ASSETS_STREAM;")
    assert caught.value.status_code == 400
    assert caught.value.error_code // 100 == 400
    assert "STREAM" in caught.value.message


def test_insert_into_stream_lands_on_the_topic_and_in_the_tables(
    client: KSQLDBClient, server: FakeKSQLDBServer
):
    uuid = f"INSERTED-{int(client.http2)}"
    row = {"ASSET_UUID": uuid, "ID": "avail", "VALUE": "AVAILABLE", "TAG": "Availability",
           "TYPE": "Events", "ATTRIBUTES": {"timestamp": "2026-05-04T12:00:00.000Z"}}  # fmt: skip
    assert client.insert_into_stream("ASSETS_STREAM", [row]) == [{"status": "ok", "seq": 0}]
    assert [r.key for r in server.ksqldb.broker.records("ofa_assets", uuid)] == [uuid]
    avail = client.query(f"SELECT AVAILABILITY FROM assets_avail WHERE ASSET_UUID = '{uuid}';")
    assert avail == [{"AVAILABILITY": "AVAILABLE"}]
    assert client.http_version == _expected_version(client)


def test_insert_into_unknown_stream_fails(client: KSQLDBClient):
    with pytest.raises(KSQLDBError) as caught:
        client.insert_into_stream("NOPE", [{"ASSET_UUID": "x"}])
    assert caught.value.status_code == 400
    assert "NOPE" in caught.value.message


def test_concurrent_queries_share_one_client(client: KSQLDBClient):
    with ThreadPoolExecutor(max_workers=8) as pool:
        topics = list(pool.map(lambda _: client.get_kafka_topic("ASSETS_STREAM"), range(32)))
    assert topics == ["ofa_assets"] * 32


# argument validation and lifecycle --------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["", "localhost:8088", "ftp://host:21", "http://", "http://host:notaport", 8088,
            "http://host:8088/?x=1"],
)  # fmt: skip
def test_bad_url_is_a_configuration_error(url: object):
    with pytest.raises(ConfigurationError, match="ksqldb_url"):
        KSQLDBClient(url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value"),
    [("timeout", 0), ("timeout", "1"), ("max_retries", -1), ("max_retries", 1.5), ("backoff", -1)],
)
def test_bad_options_are_configuration_errors(option: str, value: object):
    with pytest.raises(ConfigurationError, match=option):
        KSQLDBClient(URL, **{option: value})  # type: ignore[arg-type]


def test_url_keeps_its_form_without_trailing_slash():
    assert KSQLDBClient("http://ksqldb:8088/").ksqldb_url == "http://ksqldb:8088"


@pytest.mark.parametrize("name", ["", "ASSETS STREAM", "x;DROP STREAM y", "1ABC", None])
def test_get_kafka_topic_rejects_non_identifiers_without_a_request(name: object):
    calls: list[httpx.Request] = []
    ksql = KSQLDBClient(URL, transport=_mock(calls, lambda request: httpx.Response(200)))
    with pytest.raises(ConfigurationError, match="identifier"):
        ksql.get_kafka_topic(name)  # type: ignore[arg-type]
    assert calls == []


def test_construction_makes_no_network_call():
    calls: list[httpx.Request] = []
    KSQLDBClient("http://localhost:1", transport=_mock(calls, lambda r: httpx.Response(200)))
    assert calls == []
    KSQLDBClient("http://localhost:1")  # nothing listens there, and nothing is attempted


def test_closed_port_fails_fast_with_a_hint():
    started = time.monotonic()
    with (
        KSQLDBClient("http://localhost:1", max_retries=1, backoff=0.01, timeout=2) as ksql,
        pytest.raises(KSQLDBError, match="KSQLDB_URL") as caught,
    ):
        ksql.info()
    assert "http://localhost:1" in caught.value.message
    assert time.monotonic() - started < 2


def test_close_is_idempotent_and_final(server: FakeKSQLDBServer):
    ksql = KSQLDBClient(server.url)
    ksql.info()
    ksql.close()
    ksql.close()
    with pytest.raises(KSQLDBError, match="closed"):
        ksql.info()


# retry policy, with MockTransport playing the server --------------------------------------
def _mock(
    calls: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response]
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return answer(request)

    return httpx.MockTransport(handler)


def _client(calls: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response],
            delays: list[float], **options: object) -> KSQLDBClient:  # fmt: skip
    ksql = KSQLDBClient(URL, transport=_mock(calls, answer), backoff=0.1, **options)  # type: ignore[arg-type]
    ksql._sleep = delays.append  # record the backoff instead of waiting it out
    return ksql


INFO = {"KsqlServerInfo": {"version": "0.29.0"}}
UNAVAILABLE = {"@type": "generic_error", "error_code": 50300, "message": "warming up"}


def test_5xx_is_retried_with_exponential_backoff_then_succeeds():
    calls: list[httpx.Request] = []
    delays: list[float] = []
    answers = iter([503, 500, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json=INFO if status == 200 else UNAVAILABLE)

    assert _client(calls, answer, delays).info() == INFO
    assert len(calls) == 3
    assert delays == pytest.approx([0.1, 0.2])


def test_5xx_that_persists_surfaces_ksqldb_error_after_max_retries():
    calls: list[httpx.Request] = []
    delays: list[float] = []
    ksql = _client(calls, lambda r: httpx.Response(503, json=UNAVAILABLE), delays, max_retries=2)
    with pytest.raises(KSQLDBError) as caught:
        ksql.info()
    assert len(calls) == 3
    assert delays == pytest.approx([0.1, 0.2])
    assert (caught.value.error_code, caught.value.status_code) == (50300, 503)
    assert caught.value.message == "warming up"


def test_retry_delay_without_backoff_is_constant_as_upstream():
    calls: list[httpx.Request] = []
    delays: list[float] = []
    ksql = KSQLDBClient(URL, 2, 0.3, transport=_mock(calls, lambda r: httpx.Response(503)))
    ksql._sleep = delays.append
    with pytest.raises(KSQLDBError):
        ksql.info()
    assert len(calls) == 3
    assert delays == [0.3, 0.3]


def test_4xx_is_never_retried():
    calls: list[httpx.Request] = []
    delays: list[float] = []
    error = {"@type": "statement_error", "error_code": 40001, "message": "line 1:1: no"}
    ksql = _client(calls, lambda r: httpx.Response(400, json=error), delays)
    with pytest.raises(KSQLDBError) as caught:
        ksql.statement_query("SHOW STREAMS")
    assert len(calls) == 1
    assert delays == []
    assert (caught.value.error_code, caught.value.status_code) == (40001, 400)
    assert json.loads(calls[0].content) == {"ksql": "SHOW STREAMS;", "streamsProperties": {}}


def test_connection_errors_are_retried_max_retries_times_then_raise():
    calls: list[httpx.Request] = []
    delays: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    ksql = _client(calls, refuse, delays, max_retries=3)
    with pytest.raises(KSQLDBError, match="check KSQLDB_URL") as caught:
        ksql.query("SELECT * FROM assets;")
    assert len(calls) == 4
    assert delays == pytest.approx([0.1, 0.2, 0.4])
    assert URL in caught.value.message
    assert caught.value.status_code is None


def test_a_lost_insert_is_not_resent_but_a_lost_query_is():
    calls: list[httpx.Request] = []
    delays: list[float] = []

    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    ksql = _client(calls, drop, delays, max_retries=2)
    with pytest.raises(KSQLDBError):
        ksql.insert_into_stream("ASSETS_STREAM", [{"ASSET_UUID": "a"}])
    assert len(calls) == 1
    with pytest.raises(KSQLDBError):
        ksql.query("SELECT * FROM assets;")
    assert len(calls) == 4


def test_query_request_and_delimited_answer():
    calls: list[httpx.Request] = []
    body = '{"queryId":"q1","columnNames":["ID","VALUE"],"columnTypes":["STRING","STRING"]}\n'
    body += '["a","1"]\n["b",null]\n'
    ksql = _client(calls, lambda r: httpx.Response(200, text=body), [])
    assert ksql.query("SELECT ID, VALUE FROM assets") == [
        {"ID": "a", "VALUE": "1"},
        {"ID": "b", "VALUE": None},
    ]
    assert calls[0].url.path == "/query-stream"
    assert calls[0].headers["accept"] == "application/vnd.ksqlapi.delimited.v1"
    assert json.loads(calls[0].content) == {"sql": "SELECT ID, VALUE FROM assets", "properties": {}}


def test_error_ack_of_an_insert_is_raised():
    calls: list[httpx.Request] = []
    acks = '{"status":"ok","seq":0}\n{"status":"error","seq":1,"error_code":50000,"message":"x"}\n'
    ksql = _client(calls, lambda r: httpx.Response(200, text=acks), [])
    with pytest.raises(KSQLDBError, match="x") as caught:
        ksql.insert_into_stream("ASSETS_STREAM", [{"ID": "a"}, {"ID": "b"}])
    assert caught.value.error_code == 50000
    lines = calls[0].content.decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"target": "ASSETS_STREAM"}, {"ID": "a"},
                                                    {"ID": "b"}]  # fmt: skip


@pytest.mark.parametrize("text", ["not json", '["a","1"]\n', ""])
def test_malformed_query_answers_are_ksqldb_errors(text: str):
    ksql = _client([], lambda r: httpx.Response(200, text=text), [])
    with pytest.raises(KSQLDBError):
        ksql.query("SELECT * FROM assets")


def test_non_json_error_body_still_gives_a_ksqldb_error():
    ksql = _client([], lambda r: httpx.Response(404, text="<html>no</html>"), [])
    with pytest.raises(KSQLDBError) as caught:
        ksql.info()
    assert (caught.value.status_code, caught.value.error_code) == (404, 40400)
