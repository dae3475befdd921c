"""Reference section 6: ``KSQLDBClient`` in both releases' spellings, the real client against the
fake ksqlDB served over HTTP/1.1 and cleartext HTTP/2."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterator

import pytest

from openfactory.kafka import KSQLDBClient as ReExported
from openfactory.kafka.ksql import KSQLDBClient, KSQLDBClientException
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.transport.wire import asset_record

KSQL_LOGGER = logging.getLogger("openfactory.ksqlDB")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKSQLDBServer]:
    with FakeKSQLDBServer(FakeKSQLDB(FakeBroker())) as running:
        yield running


@pytest.fixture(params=[False, True], ids=["http1.1", "h2c"])
def http2(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(autouse=True)
def _ksql_logger_level() -> Iterator[None]:
    level = KSQL_LOGGER.level
    yield
    KSQL_LOGGER.setLevel(level)


class CountingProxy:
    """A TCP forwarder to ``port`` on loopback that counts the connections it accepts."""

    def __init__(self, port: int) -> None:
        self._target = ("127.0.0.1", port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.accepted = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            self._sockets += [downstream, upstream]
            self.accepted += 1
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        self._listener.close()
        for end in self._sockets:
            end.close()


# construction ----------------------------------------------------------------------------
def test_one_class_at_both_paths() -> None:
    assert ReExported is KSQLDBClient


def test_0_5_3_positional_order(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(server.url + "/", 2, 0.5, 3.0, "DEBUG")
    assert (client.ksqldb_url, client.max_retries, client.retry_delay, client.timeout) == (
        server.url, 2, 0.5, 3.0,
    )  # fmt: skip
    assert client.max_requests_per_connection == 1000
    assert KSQL_LOGGER.level == logging.DEBUG


def test_0_5_3_keywords(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(
        ksqldb_url=server.url, max_retries=1, retry_delay=0.1, timeout=5.0, loglevel="INFO"
    )
    assert (client.max_retries, client.retry_delay, client.timeout) == (1, 0.1, 5.0)
    assert KSQL_LOGGER.level == logging.INFO


def test_0_6_6_positional_order(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(server.url, 3, 2.0, 10.0, 50, "ERROR")
    assert client.max_requests_per_connection == 50
    assert KSQL_LOGGER.level == logging.ERROR
    client = KSQLDBClient(server.url, 3, 2.0, 10.0, 7)
    assert client.max_requests_per_connection == 7
    assert KSQL_LOGGER.level == logging.WARNING  # config.KSQLDB_LOG_LEVEL


def test_0_6_6_keywords_and_a_numeric_keyword_loglevel(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(server.url, max_requests_per_connection=5, loglevel=logging.DEBUG)
    assert client.max_requests_per_connection == 5
    assert KSQL_LOGGER.level == logging.DEBUG


def test_defaults(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(server.url)
    assert (client.max_retries, client.retry_delay, client.timeout) == (3, 2.0, 10.0)
    assert client.max_requests_per_connection == 1000
    assert KSQL_LOGGER.level == logging.WARNING


@pytest.mark.parametrize(
    "extra",
    [("INFO", "DEBUG"), (5, 6), ("INFO", 5, 6), (1.5,), (True,)],
    ids=["two-levels", "two-maxima", "too-many", "float", "bool"],
)
def test_fifth_and_sixth_positionals_must_be_one_str_and_one_int(extra: tuple[object, ...]) -> None:
    with pytest.raises(TypeError, match="KSQLDBClient"):
        KSQLDBClient("http://ksqldb:8088", 3, 2.0, 10.0, *extra)  # type: ignore[arg-type]


def test_a_positional_and_a_keyword_for_the_same_parameter_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="loglevel"):
        KSQLDBClient("http://ksqldb:8088", 3, 2.0, 10.0, "INFO", loglevel="DEBUG")


@pytest.mark.parametrize(
    "options",
    [{"loglevel": "LOUD"}, {"loglevel": -1}, {"max_requests_per_connection": 0},
     {"retry_delay": -1.0}],
)  # fmt: skip
def test_bad_options_raise_ksqldb_client_exception(options: dict[str, object]) -> None:
    with pytest.raises(KSQLDBClientException, match=next(iter(options))):
        KSQLDBClient("http://ksqldb:8088", **options)  # type: ignore[arg-type]


def test_construction_installs_no_signal_handler() -> None:
    # Upstream's client installs SIGINT/SIGTERM handlers; here the app owns its signals.
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    KSQLDBClient("http://127.0.0.1:1")
    assert {s: signal.getsignal(s) for s in before} == before


# methods ----------------------------------------------------------------------------------
def test_info_streams_tables_and_topics(server: FakeKSQLDBServer, http2: bool) -> None:
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        assert "KsqlServerInfo" in client.info()
        assert "ASSETS_STREAM" in client.streams()
        assert "ASSETS_TYPE" in client.tables()
        assert client.get_kafka_topic("ASSETS_STREAM") == "ofa_assets"


def test_query_rows_are_dicts_keyed_by_upper_case_columns(
    server: FakeKSQLDBServer, http2: bool
) -> None:
    uuid = f"S6-QUERY-{int(http2)}"
    record = asset_record("speed", 42, "Speed", "Samples", "2026-05-04T12:00:00.000Z")
    server.ksqldb.broker.produce("ofa_assets", uuid, record)
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        rows = client.query(f"select id, value, type from assets where asset_uuid='{uuid}';")
    assert rows == [{"ID": "speed", "VALUE": "42", "TYPE": "Samples"}]


def test_statement_query_as_0_5_3_documents_it(server: FakeKSQLDBServer, http2: bool) -> None:
    # 0.5.3's docstring: the parsed answer.
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        result = client.statement_query("DESCRIBE ASSETS_STREAM EXTENDED;")
    assert isinstance(result, list)
    assert result[0]["sourceDescription"]["topic"] == "ofa_assets"


def test_statement_query_as_0_6_6_reads_it(server: FakeKSQLDBServer, http2: bool) -> None:
    # 0.6.6: the httpx.Response, whose .json() is the list of entities.
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        response = client.statement_query("DESCRIBE ASSETS_STREAM EXTENDED;")
    assert response.status_code == 200
    assert response.is_success
    assert response.raise_for_status() is response
    body = response.json()
    assert body == list(response)
    assert body[0]["sourceDescription"]["topic"] == "ofa_assets"
    assert response.json() is not body  # parsed anew each time, as httpx does
    assert response.text.startswith("[")
    assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")


def test_insert_into_stream_returns_one_dict_per_line(
    server: FakeKSQLDBServer, http2: bool
) -> None:
    uuid = f"S6-INSERT-{int(http2)}"
    row = {"ASSET_UUID": uuid, "ID": "avail", "VALUE": "AVAILABLE", "TAG": "Availability",
           "TYPE": "Events", "ATTRIBUTES": {"timestamp": "2026-05-04T12:00:00.000Z"}}  # fmt: skip
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        assert client.insert_into_stream("ASSETS_STREAM", [row]) == [{"status": "ok", "seq": 0}]
    assert [r.key for r in server.ksqldb.broker.records("ofa_assets", uuid)] == [uuid]


def test_close_is_idempotent_and_later_calls_raise(server: FakeKSQLDBServer) -> None:
    client = KSQLDBClient(server.url)
    client.info()
    client.close()
    client.close()
    with pytest.raises(KSQLDBClientException, match="closed"):
        client.info()


# errors: always KSQLDBClientException -----------------------------------------------------
def test_ksqldb_errors(server: FakeKSQLDBServer, http2: bool) -> None:
    with KSQLDBClient(server.url, 0, http2=http2) as client:
        with pytest.raises(KSQLDBClientException):
            client.get_kafka_topic("NO_SUCH_STREAM")
        with pytest.raises(KSQLDBClientException):
            client.statement_query("DESCRIBE NO_SUCH_STREAM EXTENDED;")
        with pytest.raises(KSQLDBClientException):
            client.query("SELECT * FROM ASSETS_STREAM;")
        with pytest.raises(KSQLDBClientException):
            client.insert_into_stream("NO_SUCH_STREAM", [{"ASSET_UUID": "x"}])


def test_arguments_refused_before_sending_are_ksqldb_client_exceptions(
    server: FakeKSQLDBServer,
) -> None:
    with KSQLDBClient(server.url, 0) as client:
        with pytest.raises(KSQLDBClientException, match="identifier"):
            client.get_kafka_topic("x; DROP STREAM y")
        with pytest.raises(KSQLDBClientException, match="sql"):
            client.query("")
        with pytest.raises(KSQLDBClientException, match="rows"):
            client.insert_into_stream("ASSETS_STREAM", "not rows")  # type: ignore[arg-type]


@pytest.mark.parametrize("call", ["query", "insert_into_stream", "statement_query", "info"])
def test_connection_errors_of_every_method_are_ksqldb_client_exceptions(call: str) -> None:
    # Upstream lets query()'s and insert_into_stream()'s connection errors escape as httpx's.
    arguments = {
        "query": ("SELECT * FROM assets;",),
        "insert_into_stream": ("ASSETS_STREAM", [{"ASSET_UUID": "x"}]),
        "statement_query": ("SHOW STREAMS;",),
        "info": (),
    }[call]
    with (
        KSQLDBClient("http://127.0.0.1:1", 0) as client,
        pytest.raises(KSQLDBClientException, match="KSQLDB_URL"),
    ):
        getattr(client, call)(*arguments)


# connections ------------------------------------------------------------------------------
@pytest.fixture
def proxy(server: FakeKSQLDBServer) -> Iterator[CountingProxy]:
    counting = CountingProxy(int(server.url.rsplit(":", 1)[1]))
    yield counting
    counting.close()


def test_a_new_connection_after_max_requests_per_connection(
    proxy: CountingProxy, http2: bool
) -> None:
    with KSQLDBClient(proxy.url, 0, http2=http2, max_requests_per_connection=2) as client:
        for _ in range(5):
            client.info()
        assert proxy.accepted == 3
        client.statement_query("SHOW STREAMS;")
        assert proxy.accepted == 3  # the 6th request still rode the third connection
        client.get_kafka_topic("ASSETS_STREAM")
        assert proxy.accepted == 4


def test_connections_are_kept_under_the_default(proxy: CountingProxy, http2: bool) -> None:
    with KSQLDBClient(proxy.url, 0, http2=http2) as client:
        for _ in range(5):
            client.info()
    assert proxy.accepted == 1


def test_concurrent_requests_across_connection_renewals(proxy: CountingProxy) -> None:
    with KSQLDBClient(proxy.url, 0, max_requests_per_connection=3) as client:
        topics: list[str] = []

        def ask() -> None:
            for _ in range(6):
                topics.append(client.get_kafka_topic("ASSETS_STREAM"))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert topics == ["ofa_assets"] * 24
    assert proxy.accepted >= 24 // 3
