"""The production ksqlDB client: ksqlDB's REST API over httpx (HTTP/1.1 or cleartext HTTP/2).

httpx is confined to this module; every failure leaves it as ``openfactory.errors.KSQLDBError``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from openfactory import _clock
from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.transport import KSQLDB

logger = logging.getLogger("openfactory.kafka.ksqldb")

DELIMITED = "application/vnd.ksqlapi.delimited.v1"
_KSQL_JSON = "application/vnd.ksql.v1+json"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Statements that only read, so a request lost mid-flight can safely be sent again.
_READ_ONLY = re.compile(r"\s*(SHOW|LIST|DESCRIBE|EXPLAIN)\b", re.IGNORECASE)


def _identifier(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ConfigurationError(
            f"{kind} name must be a ksqlDB identifier (letters, digits, '_', not starting with "
            f"a digit), got {name!r}"
        )
    return name


def _sql(sql: object) -> str:
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigurationError(f"sql must be a non-empty string, got {sql!r}")
    return sql.strip()


class KSQLDBClient:
    """Client of a ksqlDB server's REST API; raises ``ConfigurationError`` on a bad argument.

    Nothing is sent until the first call. Calls are thread-safe. Connection errors and 5xx
    answers are retried ``max_retries`` times with exponential backoff (``backoff``, doubled
    each time); 4xx answers never are. Every failure is raised as ``KSQLDBError``.
    ``http_version`` is the HTTP version of the latest response (``"HTTP/1.1"``, ``"HTTP/2"``).
    """

    def __init__(
        self,
        ksqldb_url: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.2,
        http2: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.ksqldb_url = self._validate_url(ksqldb_url)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise ConfigurationError(f"backoff must be a number of seconds >= 0, got {backoff!r}")
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.http2 = bool(http2)
        self._transport = transport
        self._client: httpx.Client | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._sleep: Callable[[float], None] = _clock.sleep  # real: a backoff is no turn of the app
        self.http_version: str | None = None

    @staticmethod
    def _validate_url(url: object) -> str:
        if not isinstance(url, str):
            raise ConfigurationError(f"ksqldb_url must be a string, got {type(url).__name__}")
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018  (raises ValueError on a malformed port)
        except ValueError as error:
            raise ConfigurationError(f"ksqldb_url {url!r} is not a valid URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"ksqldb_url must look like 'http://host:8088' (http or https, with a host), "
                f"got {url!r}; check KSQLDB_URL"
            )
        if parts.query or parts.fragment:
            raise ConfigurationError(f"ksqldb_url must not have a query or fragment, got {url!r}")
        return url.strip().rstrip("/")

    def __repr__(self) -> str:
        return f"KSQLDBClient({self.ksqldb_url!r}, http2={self.http2})"

    # public API ---------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The server's ``GET /info`` answer; raises ``KSQLDBError``."""
        body = self._json(self._request("GET", "/info", idempotent=True))
        if not isinstance(body, dict):
            raise KSQLDBError(f"/info answered {body!r}, expected a JSON object", 50000)
        return body

    def streams(self) -> list[str]:
        """Names of the streams (``SHOW STREAMS;``); raises ``KSQLDBError``."""
        return self._listed("SHOW STREAMS;", "streams")

    def tables(self) -> list[str]:
        """Names of the tables (``SHOW TABLES;``); raises ``KSQLDBError``."""
        return self._listed("SHOW TABLES;", "tables")

    def get_kafka_topic(self, name: str) -> str:
        """Kafka topic of stream or table ``name``; raises ``ConfigurationError``,
        ``KSQLDBError``."""
        _identifier("stream or table", name)
        for entity in self.statement_query(f"DESCRIBE {name} EXTENDED;"):
            description = entity.get("sourceDescription") if isinstance(entity, dict) else None
            if isinstance(description, dict) and isinstance(description.get("topic"), str):
                return str(description["topic"])
        raise KSQLDBError(f"DESCRIBE {name} EXTENDED answered without a topic", 50000)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of pull query ``sql`` as dicts keyed by column name; raises ``KSQLDBError``."""
        payload = {"sql": _sql(sql), "properties": {}}
        response = self._request(
            "POST",
            "/query-stream",
            content=json.dumps(payload).encode(),
            headers={"Content-Type": DELIMITED, "Accept": DELIMITED},
            idempotent=True,
        )
        lines = self._lines(response)
        if not lines or not isinstance(lines[0], dict) or "columnNames" not in lines[0]:
            raise KSQLDBError(f"pull query answered without a header: {response.text!r}", 50000)
        columns = lines[0]["columnNames"]
        rows: list[dict[str, Any]] = []
        for line in lines[1:]:
            if not isinstance(line, list):
                raise self._error_from(line, response.status_code)
            rows.append(dict(zip(columns, line, strict=False)))
        return rows

    def statement_query(self, sql: str) -> list[dict[str, Any]]:
        """The ``POST /ksql`` answer (a list of entities) to statement ``sql``; raises
        ``KSQLDBError``."""
        statement = _sql(sql)
        statement = statement if statement.endswith(";") else statement + ";"
        payload = {"ksql": statement, "streamsProperties": {}}
        response = self._request(
            "POST",
            "/ksql",
            content=json.dumps(payload).encode(),
            headers={"Content-Type": _KSQL_JSON, "Accept": _KSQL_JSON},
            idempotent=bool(_READ_ONLY.match(statement)),
        )
        body = self._json(response)
        if not isinstance(body, list):
            raise KSQLDBError(f"/ksql answered {body!r}, expected a JSON list", 50000)
        return body

    def insert_into_stream(self, stream: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert ``rows`` into ``stream``; returns one ack per row; raises ``KSQLDBError``."""
        _identifier("stream", stream)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ConfigurationError(f"rows must be a list of dicts, got {rows!r}")
        if not rows:
            return []
        body = "\n".join(json.dumps(line) for line in [{"target": stream}, *rows]) + "\n"
        response = self._request(
            "POST",
            "/inserts-stream",
            content=body.encode(),
            headers={"Content-Type": DELIMITED, "Accept": DELIMITED},
            idempotent=False,
        )
        acks = self._lines(response)
        for ack in acks:
            if not isinstance(ack, dict) or ack.get("status") != "ok":
                raise self._error_from(ack, response.status_code)
        return acks

    def close(self) -> None:
        """Close the connections; later calls raise ``KSQLDBError``. Idempotent."""
        with self._lock:
            client, self._client, self._closed = self._client, None, True
        if client is not None:
            client.close()

    def __enter__(self) -> KSQLDBClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # HTTP ---------------------------------------------------------------------------------
    def _http(self) -> httpx.Client:
        with self._lock:
            if self._closed:
                raise KSQLDBError(f"{self!r} is closed; create a new client", 50000)
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.ksqldb_url,
                    timeout=self.timeout,
                    http1=not self.http2,
                    http2=self.http2,
                    transport=self._transport,
                    event_hooks={"response": [self._seen]},
                )
            return self._client

    def _seen(self, response: httpx.Response) -> None:
        self.http_version = response.http_version

    def _request(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> httpx.Response:
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._http().request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                failure = str(error) or type(error).__name__
            except httpx.TransportError as error:
                # The request may have reached the server: resend only what only reads.
                if not idempotent:
                    raise self._unreachable(path, error, attempt + 1) from error
                failure = str(error) or type(error).__name__
            except httpx.HTTPError as error:
                raise KSQLDBError(f"{path} failed: {error}", 50000) from error
            else:
                if response.status_code < 500 or last:
                    if response.is_success:
                        return response
                    raise self._error_from(self._body(response), response.status_code)
                failure = f"HTTP {response.status_code}"
            if last:
                raise self._unreachable(path, failure, attempts)
            delay = self.backoff * 2**attempt
            logger.warning(
                "ksqlDB %s%s failed (%s); retry %d/%d in %.2fs",
                self.ksqldb_url, path, failure, attempt + 1, self.max_retries, delay,
            )  # fmt: skip
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _unreachable(self, path: str, failure: object, attempts: int) -> KSQLDBError:
        return KSQLDBError(
            f"cannot reach ksqlDB at {self.ksqldb_url} ({path}) after {attempts} attempt(s): "
            f"{failure}; check KSQLDB_URL and that ksqlDB is running",
            50000,
        )

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return response.text

    @staticmethod
    def _error_from(body: Any, status_code: int | None) -> KSQLDBError:
        if isinstance(body, dict) and "message" in body:
            code = body.get("error_code")
            if not isinstance(code, int):
                code = (status_code or 500) * 100
            return KSQLDBError(str(body["message"]), code, status_code)
        code = (status_code or 500) * 100
        return KSQLDBError(f"unexpected answer (HTTP {status_code}): {body!r}", code, status_code)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise KSQLDBError(
                f"{response.request.url.path} answered non-JSON: {response.text[:200]!r}",
                50000,
                response.status_code,
            ) from None

    @staticmethod
    def _lines(response: httpx.Response) -> list[Any]:
        text = response.text.strip()
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            raise KSQLDBError(
                f"{response.request.url.path} answered malformed JSON lines: {text[:200]!r}",
                50000,
                response.status_code,
            ) from None

    def _listed(self, statement: str, key: str) -> list[str]:
        names: list[str] = []
        for entity in self.statement_query(statement):
            for source in entity.get(key, []) if isinstance(entity, dict) else []:
                if isinstance(source, dict) and isinstance(source.get("name"), str):
                    names.append(source["name"])
        return names


# Checked by mypy: the client keeps the contract that apps and transports are typed with.
_KEEPS_THE_CONTRACT: type[KSQLDB] = KSQLDBClient
