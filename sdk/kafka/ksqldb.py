"""The production ksqlDB client: ksqlDB's REST API over httpx (HTTP/1.1 or cleartext HTTP/2).

httpx is confined to this module; every failure leaves it as ``openfactory.errors.KSQLDBError``
(the platform library's ``KSQLDBClientException``: the same class).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from openfactory import _clock
from openfactory.config import KSQLDB_LOG_LEVEL
from openfactory.errors import KSQLDBArgumentError, KSQLDBError
from openfactory.kafka._ksqldb_connections import RenewedConnections
from openfactory.transport import KSQLDB

#: The platform library's logger name; ``KSQLDBClient(loglevel=...)`` sets its level.
logger = logging.getLogger("openfactory.ksqlDB")

DELIMITED = "application/vnd.ksqlapi.delimited.v1"
_KSQL_JSON = "application/vnd.ksql.v1+json"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Statements that only read, so a request lost mid-flight can safely be sent again.
_READ_ONLY = re.compile(r"\s*(SHOW|LIST|DESCRIBE|EXPLAIN)\b", re.IGNORECASE)


def _identifier(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise KSQLDBArgumentError(
            f"{kind} name must be a ksqlDB identifier (letters, digits, '_', not starting with "
            f"a digit), got {name!r}"
        )
    return name


def _sql(sql: object) -> str:
    if not isinstance(sql, str) or not sql.strip():
        raise KSQLDBArgumentError(f"sql must be a non-empty string, got {sql!r}")
    return sql.strip()


def _sort_positionals(
    extra: tuple[str | int, ...], loglevel: str | int | None, max_requests: int | None
) -> tuple[str | int, int]:
    """Sort the 5th/6th positional arguments by type: str is loglevel, int max_requests."""
    if len(extra) > 2:
        raise TypeError(
            f"KSQLDBClient() takes at most 6 positional arguments (ksqldb_url, max_retries, "
            f"retry_delay, timeout, loglevel, max_requests_per_connection), got {4 + len(extra)}"
        )
    for value in extra:
        if isinstance(value, str):
            if loglevel is not None:
                raise TypeError("KSQLDBClient() got two values for 'loglevel'")
            loglevel = value
        elif isinstance(value, int) and not isinstance(value, bool):
            if max_requests is not None:
                raise TypeError("KSQLDBClient() got two values for 'max_requests_per_connection'")
            max_requests = value
        else:
            raise TypeError(
                f"KSQLDBClient()'s 5th/6th positional argument must be a str (loglevel) or an "
                f"int (max_requests_per_connection), got {value!r}"
            )
    return (
        KSQLDB_LOG_LEVEL if loglevel is None else loglevel,
        1000 if max_requests is None else max_requests,
    )


def _level(loglevel: object) -> int:
    """``loglevel`` (a level name in any case, or a number >= 0) as a logging level number."""
    if isinstance(loglevel, int) and not isinstance(loglevel, bool) and loglevel >= 0:
        return loglevel
    if isinstance(loglevel, str):
        level = logging.getLevelNamesMapping().get(loglevel.strip().upper())
        if level is not None:
            return level
    raise KSQLDBArgumentError(
        f"loglevel must be a level name (DEBUG, INFO, WARNING, ERROR, CRITICAL) or a number "
        f">= 0, got {loglevel!r}"
    )


class StatementResult(list[dict[str, Any]]):
    """What ksqlDB answered to a ``/ksql`` statement: the list of entities, and the response.

    Upstream returns the ``httpx.Response`` (0.6.6 code calls ``.json()``) while its 0.5.3
    docstring promises the parsed body: this is both. It is the list ``.json()`` returns (a new
    copy on each call, as httpx parses anew); ``status_code``, ``text``, ``headers`` and
    ``http_version`` describe the response. Error answers never get here: they raise
    ``KSQLDBError``, so ``raise_for_status()`` only returns the result.
    """

    def __init__(self, entities: list[dict[str, Any]], response: httpx.Response) -> None:
        super().__init__(entities)
        self.status_code: int = response.status_code
        self.text: str = response.text
        self.headers: dict[str, str] = dict(response.headers)
        self.http_version: str = response.http_version

    @property
    def is_success(self) -> bool:
        """True: an answer that is not a success is raised as ``KSQLDBError`` instead."""
        return 200 <= self.status_code < 300

    def json(self) -> list[dict[str, Any]]:
        """The entities, parsed anew from the response text."""
        entities: list[dict[str, Any]] = json.loads(self.text)
        return entities

    def raise_for_status(self) -> StatementResult:
        """Return ``self`` (an error answer was already raised as ``KSQLDBError``)."""
        return self


class KSQLDBClient:
    """Client of a ksqlDB server's REST API, with the platform library's constructor.

    ``KSQLDBClient(ksqldb_url, max_retries=3, retry_delay=2.0, timeout=10.0, loglevel="WARNING",
    max_requests_per_connection=1000)``. A fifth (and sixth) positional argument is sorted by
    type, so both releases' orders work: a ``str`` is ``loglevel`` (0.5.3), an ``int`` is
    ``max_requests_per_connection`` (0.6.6). ``loglevel`` (a name or number) sets the level of
    logger ``openfactory.ksqlDB``; the HTTP client (its connections) is recreated after every
    ``max_requests_per_connection`` completed requests.

    Nothing is sent until the first call. Calls are thread-safe. Connection errors and 5xx
    answers are retried ``max_retries`` times (after the first attempt), ``retry_delay`` seconds
    apart, or with exponential backoff when ``backoff`` is given (``backoff``, then twice as
    long each time); 4xx answers never are, nor a request that may have reached the server
    unless it only reads. ``http2=True`` speaks cleartext HTTP/2 (prior knowledge) instead of
    HTTP/1.1; ``transport`` replaces httpx's network transport. ``http_version`` is the HTTP
    version of the latest response (``"HTTP/1.1"``, ``"HTTP/2"``).

    Every failure, a refused argument included, raises ``KSQLDBError`` (the platform's
    ``KSQLDBClientException``); a refused argument raises ``KSQLDBArgumentError``, also a
    ``ConfigurationError``. Wrong positional arguments raise ``TypeError``.
    """

    def __init__(
        self,
        ksqldb_url: str,
        max_retries: int = 3,
        retry_delay: float = 2.0,
        timeout: float = 10.0,
        *loglevel_or_max_requests: str | int,
        loglevel: str | int | None = None,
        max_requests_per_connection: int | None = None,
        backoff: float | None = None,
        http2: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        level, max_requests = _sort_positionals(
            loglevel_or_max_requests, loglevel, max_requests_per_connection
        )
        self.ksqldb_url = self._validate_url(ksqldb_url)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise KSQLDBArgumentError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise KSQLDBArgumentError(f"max_retries must be an int >= 0, got {max_retries!r}")
        for name, delay in (("retry_delay", retry_delay), ("backoff", backoff)):
            if delay is not None and (
                isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0
            ):
                raise KSQLDBArgumentError(f"{name} must be a number of seconds >= 0, got {delay!r}")
        if isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1:
            raise KSQLDBArgumentError(
                f"max_requests_per_connection must be an int >= 1, got {max_requests!r}"
            )
        logger.setLevel(_level(level))
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.retry_delay = float(retry_delay)
        self.backoff = None if backoff is None else float(backoff)
        self.max_requests_per_connection = max_requests
        self.http2 = bool(http2)
        self._transport = transport
        self._connections = RenewedConnections(self._new_http_client, max_requests)
        self._sleep: Callable[[float], None] = _clock.sleep  # real: a backoff is no turn of the app
        self.http_version: str | None = None

    @staticmethod
    def _validate_url(url: object) -> str:
        if not isinstance(url, str):
            raise KSQLDBArgumentError(
                f"ksqldb_url must be a string, got {type(url).__name__}; check KSQLDB_URL"
            )
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018  (raises ValueError on a malformed port)
        except ValueError as error:
            raise KSQLDBArgumentError(f"ksqldb_url {url!r} is not a valid URL: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise KSQLDBArgumentError(
                f"ksqldb_url must look like 'http://host:8088' (http or https, with a host), "
                f"got {url!r}; check KSQLDB_URL"
            )
        if parts.query or parts.fragment:
            raise KSQLDBArgumentError(f"ksqldb_url must not have a query or fragment, got {url!r}")
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
        """Kafka topic of stream or table ``name``; raises ``KSQLDBError``
        (``KSQLDBArgumentError`` for a name that is not an identifier)."""
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

    def statement_query(self, sql: str) -> StatementResult:
        """The ``POST /ksql`` answer to statement ``sql``: a ``StatementResult``, the list of
        entities that also answers ``.json()`` and ``.status_code`` like the response upstream
        returns. A missing final ``;`` is added. Raises ``KSQLDBError``."""
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
        return StatementResult(body, response)

    def insert_into_stream(self, stream: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert ``rows`` into ``stream``; returns one ack per row; raises ``KSQLDBError``."""
        _identifier("stream", stream)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise KSQLDBArgumentError(f"rows must be a list of dicts, got {rows!r}")
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
        """Close the connections (once the requests in flight are answered); later calls raise
        ``KSQLDBError``. Idempotent."""
        self._connections.close()

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
    def _new_http_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.ksqldb_url,
            timeout=self.timeout,
            http1=not self.http2,
            http2=self.http2,
            transport=self._transport,
            event_hooks={"response": [self._seen]},
        )

    def _seen(self, response: httpx.Response) -> None:
        self.http_version = response.http_version

    def _request(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> httpx.Response:
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._connections.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                failure = str(error) or type(error).__name__
            except httpx.TransportError as error:
                # The request may have reached the server: resend only what only reads.
                if not idempotent:
                    raise self._unreachable(path, error, attempt + 1) from error
                failure = str(error) or type(error).__name__
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as error:
                raise KSQLDBError(f"{path} failed: {error}", 50000) from error
            else:
                if response.status_code < 500 or last:
                    if response.is_success:
                        return response
                    raise self._error_from(self._body(response), response.status_code)
                failure = f"HTTP {response.status_code}"
            if last:
                raise self._unreachable(path, failure, attempts)
            delay = self.retry_delay if self.backoff is None else self.backoff * 2**attempt
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
