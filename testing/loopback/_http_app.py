"""The ASGI app behind ``FakeKSQLDBServer``: ksqlDB's REST surface, answered by a ``FakeKSQLDB``."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openfactory.errors import KSQLDBError

if TYPE_CHECKING:
    from openfactory.testing.memory.ksqldb import FakeKSQLDB

logger = logging.getLogger("openfactory.testing.loopback.ksqldb_server")

DELIMITED = "application/vnd.ksqlapi.delimited.v1"
JSON = "application/json"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class ServedRequest:
    """One request the fake server answered: what was asked, over which HTTP version, and how."""

    method: str
    path: str
    http_version: str
    status: int


class _Reply(Exception):
    """Raised to answer the current request with a ksqlDB error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def _error(message: str, error_code: int, status: int | None = None) -> _Reply:
    status = status or (error_code // 100 if 400 <= error_code // 100 < 600 else 500)
    return _Reply(status, {"@type": "generic_error", "error_code": error_code, "message": message})


def _from_ksqldb(error: KSQLDBError, statement: str | None = None) -> _Reply:
    reply = _error(error.message, error.error_code, error.status_code)
    if statement is not None:
        reply.body.update({"@type": "statement_error", "statementText": statement, "entities": []})
    return reply


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"null")
    except ValueError as error:
        raise _error(f"Invalid JSON in request: {error}", 40000) from None
    if not isinstance(payload, dict):
        raise _error(f"Request body must be a JSON object, got {payload!r}", 40000)
    return payload


def _text(payload: dict[str, Any], *keys: str) -> str:
    for key in keys:
        if isinstance(payload.get(key), str):
            return str(payload[key])
    raise _error(f"Request body needs a string field {keys[0]!r}, got {payload!r}", 40000)


def _lines(items: list[Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


class KSQLDBApp:
    """ASGI app serving ``/info``, ``/ksql``, ``/query``, ``/query-stream``, ``/inserts-stream``."""

    def __init__(self, ksqldb: FakeKSQLDB, on_ready: Callable[[], None] | None = None) -> None:
        self.ksqldb = ksqldb
        self.requests: list[ServedRequest] = []
        self._on_ready = on_ready
        self._query_ids = itertools.count(1)
        self._routes: dict[str, tuple[str, Callable[[bytes], tuple[str, bytes]]]] = {
            "/info": ("GET", self._info),
            "/ksql": ("POST", self._ksql),
            "/query": ("POST", self._query),
            "/query-stream": ("POST", self._query),
            "/inserts-stream": ("POST", self._inserts),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        # In a worker thread: the fake may block (a flush while its broker is disconnected)
        # and must not stall the other connections.
        status, content_type, payload = await asyncio.to_thread(
            self._answer, scope["method"], scope["path"], bytes(body)
        )
        self.requests.append(
            ServedRequest(scope["method"], scope["path"], scope.get("http_version", "1.1"), status)
        )
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", b"%d" % len(payload)),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                if self._on_ready is not None:
                    self._on_ready()
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        try:
            route = self._routes.get(path.rstrip("/") or "/")
            if route is None:
                raise _error(f"Unknown endpoint {method} {path}", 40400)
            if method != route[0]:
                raise _error(f"{path} accepts {route[0]}, not {method}", 40500)
            content_type, payload = route[1](body)
            return 200, content_type, payload
        except _Reply as reply:
            return reply.status, JSON, json.dumps(reply.body).encode()
        except Exception as error:  # a bug in the fake must still answer like a server would
            logger.exception("fake ksqlDB failed on %s %s", method, path)
            return (
                500,
                JSON,
                json.dumps(_error(f"{type(error).__name__}: {error}", 50000).body).encode(),
            )

    # endpoints ----------------------------------------------------------------------------
    def _info(self, body: bytes) -> tuple[str, bytes]:
        return JSON, json.dumps(self.ksqldb.info()).encode()

    def _ksql(self, body: bytes) -> tuple[str, bytes]:
        statement = _text(_json_body(body), "ksql")
        try:
            entities = self.ksqldb.statement_query(statement)
        except KSQLDBError as error:
            raise _from_ksqldb(error, statement) from None
        return JSON, json.dumps(entities).encode()

    def _query(self, body: bytes) -> tuple[str, bytes]:
        sql = _text(_json_body(body), "sql", "ksql")
        try:
            names, types, rows = self.ksqldb.pull_query(sql)
        except KSQLDBError as error:
            raise _from_ksqldb(error) from None
        header = {
            "queryId": f"query_{next(self._query_ids)}",
            "columnNames": list(names),
            "columnTypes": list(types),
        }
        values = [
            [row.get(n) for n in names] if isinstance(row, dict) else list(row) for row in rows
        ]
        return DELIMITED, _lines([header, *values])

    def _inserts(self, body: bytes) -> tuple[str, bytes]:
        try:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        except ValueError as error:
            raise _error(f"Invalid JSON in request: {error}", 40000) from None
        if not lines or not isinstance(lines[0], dict) or "target" not in lines[0]:
            raise _error('The first line must be {"target": "<stream name>"}', 40000)
        rows = lines[1:]
        if not all(isinstance(row, dict) for row in rows):
            raise _error("Each row must be a JSON object", 40000)
        try:
            acks = self.ksqldb.insert_into_stream(str(lines[0]["target"]), rows)
        except KSQLDBError as error:
            raise _from_ksqldb(error) from None
        return DELIMITED, _lines(acks)
