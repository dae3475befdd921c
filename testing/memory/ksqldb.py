"""``FakeKSQLDB``: an in-memory ksqlDB materializing OpenFactory's state tables from a broker.

It is a drop-in for ``openfactory.kafka.KSQLDBClient``: the same catalog (streams, tables and
their topics), pull queries over the tables, ``/ksql`` statements and ``/inserts-stream``.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from typing import Any

from openfactory.errors import ConfigurationError, KSQLDBError
from openfactory.testing.memory._catalog import ASSETS_TOPIC, SOURCES, Source
from openfactory.testing.memory._sql import (
    BAD_REQUEST,
    QUERY_ENDPOINT_ERROR,
    Ident,
    Statement,
    parse_pull_query,
    parse_statements,
    sql_error,
)
from openfactory.testing.memory._tables import StateTables
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.transport import InMemoryTransport
from openfactory.transport import KSQLDB, DeliveryReport, Subscription

# Apps repeat the same few queries; parsed queries are immutable, so parse each once.
_parse_pull_query = lru_cache(maxsize=1024)(parse_pull_query)


def _encode_row(source: Source, seq: int, row: Any) -> tuple[str | None, bytes]:
    """(key, JSON value) of an inserted row; the key column travels in the key only."""
    if not isinstance(row, dict):
        raise KSQLDBError(f"row {seq} must be a dict of column values, got {row!r}", BAD_REQUEST)
    columns = [name for name, _ in source.columns]
    unknown = [c for c in row if not isinstance(c, str) or c.upper() not in columns]
    if unknown:
        raise sql_error(f"row {seq}: {source.kind.lower()} {source.name} has no column "
                        f"{unknown[0]!r} (columns: {', '.join(columns)})")  # fmt: skip
    key = next((v for c, v in row.items() if c.upper() == source.key), None)
    if key is not None and not isinstance(key, str):
        raise KSQLDBError(f"row {seq}: {source.key} must be a str, got {key!r}", BAD_REQUEST)
    if key is None and source.kind == "TABLE":
        raise sql_error(f"Failed to insert values into '{source.name}'. Value for primary key "
                        f"column(s) {source.key} is required for tables")  # fmt: skip
    try:
        value = json.dumps({c: v for c, v in row.items() if c.upper() != source.key})
    except (TypeError, ValueError) as err:
        raise KSQLDBError(f"row {seq} is not JSON-serializable: {err}", BAD_REQUEST) from err
    return key, value.encode()


def _require_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise KSQLDBError(
            f"{what} must be a str, got {type(value).__name__}: {value!r}", BAD_REQUEST
        )
    return value


class FakeKSQLDB:
    """A fake ksqlDB server on a ``FakeBroker``; raises ``KSQLDBError`` like ksqlDB does."""

    ksqldb_url: str = "fake://ksqldb"

    def __init__(self, broker: FakeBroker | None = None, assets_partitions: int = 1) -> None:
        """Materialize the state tables from what ``broker`` (a new one if ``None``) holds and
        receives; raises ``ConfigurationError`` on a bad broker or partition count."""
        if broker is not None and not isinstance(broker, FakeBroker):
            raise ConfigurationError(f"broker must be a FakeBroker or None, got {broker!r}")
        if type(assets_partitions) is not int or assets_partitions < 1:
            raise ConfigurationError(
                f"assets_partitions must be an int >= 1, got {assets_partitions!r}"
            )
        self.broker: FakeBroker = broker if broker is not None else FakeBroker()
        self._sources = {source.name: source for source in SOURCES}
        self._partitions = {s.topic: self.broker.default_partitions for s in SOURCES}
        self._partitions[ASSETS_TOPIC] = assets_partitions
        self._tables = StateTables()
        self._lock = self._tables.lock
        self._subscriptions: list[Subscription] = []
        self._stopped = False
        self._down = False
        self._failing: list[KSQLDBError] = []
        for topic, partitions in self._partitions.items():
            self.broker.create_topic(topic, partitions)
        with self._lock:
            # Subscribe, then replay what the topics already hold (as ksqlDB reads from the
            # earliest offset; a broker made here holds nothing); offsets seen twice are
            # applied once.
            feeds = self._tables.feeds()
            for topic, callback in feeds.items():
                self._subscriptions.append(self.broker.subscribe(topic, None, callback))
            for topic, callback in feeds.items() if broker is not None else ():
                for record in self.broker.records(topic):
                    callback(record)

    # faults -----------------------------------------------------------------------------
    def take_down(self) -> None:
        """Make every query fail as an unreachable ksqlDB would (tables keep materializing)."""
        self._down = True

    def bring_back(self) -> None:
        """Answer queries again after ``take_down()``."""
        self._down = False

    def fail_next_queries(
        self, count: int = 1, message: str = "injected ksqlDB failure", error_code: int = 50000
    ) -> None:
        """Make the next ``count`` pull queries fail with ``KSQLDBError(message, error_code)``."""
        if count < 0:
            raise ConfigurationError(f"fail_next_queries count must be >= 0, got {count}")
        self._failing.extend(KSQLDBError(message, error_code) for _ in range(count))

    def _require_up(self) -> None:
        if self._down:
            raise KSQLDBError(
                f"cannot reach ksqlDB at {self.ksqldb_url}: taken down by the test", 50000
            )

    # catalog ----------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What ``GET /info`` answers."""
        self._require_up()
        info = {"version": "0.29.0", "kafkaClusterId": "fake-kafka-cluster"}
        return {"KsqlServerInfo": {**info, "ksqlServiceId": "default_", "serverStatus": "RUNNING"}}

    def streams(self) -> list[str]:
        """Names of the streams (upper case)."""
        self._require_up()
        return [s.name for s in SOURCES if s.kind == "STREAM"]

    def tables(self) -> list[str]:
        """Names of the tables (upper case), queryable or not."""
        self._require_up()
        return [s.name for s in SOURCES if s.kind == "TABLE"]

    def get_kafka_topic(self, name: str) -> str:
        """Kafka topic of stream or table ``name`` (any case); raises ``KSQLDBError`` if unknown."""
        self._require_up()
        return self._lookup(_require_text(name, "stream or table name").upper()).topic

    def _lookup(self, name: str) -> Source:
        source = self._sources.get(name)
        if source is None:
            raise sql_error(f"Could not find STREAM/TABLE '{name}' in the Metastore")
        return source

    # pull queries -----------------------------------------------------------------------
    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run pull query ``sql``; rows as dicts keyed by upper-case column name.

        Raises ``KSQLDBError`` for anything but ``SELECT cols FROM table [WHERE ...] [LIMIT n]``."""
        names, _types, rows = self.pull_query(sql)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def pull_query(self, sql: str) -> tuple[list[str], list[str], list[list[Any]]]:
        """Run pull query ``sql``: (column names, ksqlDB types, rows); raises ``KSQLDBError``."""
        self._require_up()
        if self._failing:
            raise self._failing.pop(0)
        query = _parse_pull_query(_require_text(sql, "sql"))
        source = self._queryable(query.source)
        types = dict(source.columns)
        names = [c for c, _ in source.columns] if query.columns is None else []
        names += [self._column(ident, types, "SELECT") for ident in query.columns or ()]
        tests = []
        for condition in query.where:
            column = self._column(condition.column, types, "WHERE")
            literal, op = condition.literal, condition.op
            if literal.type == "NULL":
                raise sql_error(f"{condition.column.at}: Comparison with NULL not supported: "
                                f"{column} {op} NULL")  # fmt: skip
            if literal.type != types[column]:
                raise sql_error(
                    f"{condition.column.at}: Cannot compare {column} ({types[column]}) to "
                    f"{literal.text} ({literal.type}) with {'EQUAL' if op == '=' else 'NOT_EQUAL'}."
                )
            tests.append((column, op == "=", literal.value))
        selected = [[row[name] for name in names] for row in self._tables.select(source, tests)]
        if query.limit is not None:
            selected = selected[: query.limit]
        return names, [types[name] for name in names], selected

    def _queryable(self, name: Ident) -> Source:
        source = self._sources.get(name.name)
        if source is None:
            raise sql_error(f"{name.at}: {name.name} does not exist.")
        if source.kind == "STREAM":
            queryable = ", ".join(s.name for s in SOURCES if s.queryable)
            raise sql_error(
                f"{name.at}: Pull queries are not supported on streams: {source.name} is a "
                f"STREAM. Query one of the tables {queryable}.",
                QUERY_ENDPOINT_ERROR,
            )
        if not source.queryable:
            raise sql_error(
                f"The `{source.name}` table isn't queryable. To derive a queryable table, you can "
                f"do 'CREATE TABLE QUERYABLE_{source.name} AS SELECT * FROM {source.name}'. See "
                "https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to "
                "issue a push query."
            )
        return source

    @staticmethod
    def _column(column: Ident, types: dict[str, str], clause: str) -> str:
        if column.name not in types:
            raise sql_error(f"{column.at}: {clause} column '{column.name}' cannot be resolved.")
        return column.name

    # statements -------------------------------------------------------------------------
    def statement_query(self, sql: str) -> list[dict[str, Any]]:
        """The JSON body ``POST /ksql`` answers for DESCRIBE / SHOW / LIST statements;
        raises ``KSQLDBError`` for any other statement."""
        self._require_up()
        return [self._run(statement) for statement in parse_statements(_require_text(sql, "sql"))]

    def _run(self, statement: Statement) -> dict[str, Any]:
        entity: dict[str, Any] = {"statementText": statement.text}
        if statement.kind == "describe":
            assert statement.target is not None
            source = self._lookup(statement.target.name)
            entity["@type"] = "sourceDescription"
            entity["sourceDescription"] = source.description(
                self._partitions[source.topic], statement.extended
            )
        else:
            kind = "STREAM" if statement.kind == "streams" else "TABLE"
            sources = [s for s in SOURCES if s.kind == kind]
            if statement.extended:
                entity["@type"] = "source_descriptions"
                entity["sourceDescriptions"] = [
                    s.description(self._partitions[s.topic], True) for s in sources
                ]
            else:
                entity["@type"] = statement.kind
                entity[statement.kind] = [
                    {"type": kind, "name": s.name, "topic": s.topic, "keyFormat": "KAFKA",
                     "valueFormat": "JSON", "isWindowed": False}
                    for s in sources
                ]  # fmt: skip
        entity["warnings"] = []
        return {"@type": entity.pop("@type"), **entity}

    # inserts ----------------------------------------------------------------------------
    def insert_into_stream(self, stream: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Publish each row as JSON on ``stream``'s topic, keyed by its ASSET_UUID; returns the
        acks ``/inserts-stream`` sends. Raises ``KSQLDBError`` (before publishing anything) on an
        unknown stream, a table, or a row that is not a JSON object of the stream's columns."""
        self._require_up()
        if self._stopped:
            raise KSQLDBError("the fake ksqlDB is stopped: cannot insert rows", BAD_REQUEST)
        name = _require_text(stream, "stream name").upper()
        source = self._sources.get(name)
        if source is None or not source.writable:
            what = "an unknown stream/table" if source is None else "read-only table"
            raise sql_error(f"Cannot insert values into {what}: `{name}`")
        if not isinstance(rows, list):
            raise KSQLDBError(f"rows must be a list of dicts, got {rows!r}", BAD_REQUEST)
        encoded = [_encode_row(source, seq, row) for seq, row in enumerate(rows)]
        reports: dict[int, DeliveryReport] = {}
        for seq, (key, payload) in enumerate(encoded):
            self.broker.produce(source.topic, key, payload, partial(reports.__setitem__, seq))
        if len(reports) < len(encoded):
            self.broker.flush(5.0)
        acks: list[dict[str, Any]] = []
        for seq in range(len(encoded)):
            report = reports.get(seq)
            ack: dict[str, Any] = {"status": "ok", "seq": seq}
            if report is None or not report.ok:
                reason = report.error if report else "not delivered: the broker is disconnected"
                ack.update(status="error", error_code=50000, message=reason)
            acks.append(ack)
        return acks

    # lifecycle --------------------------------------------------------------------------
    def open_transport(self) -> InMemoryTransport:
        """A new in-memory transport on this fake's broker; raises ``KSQLDBError`` once stopped."""
        if self._stopped:
            raise KSQLDBError("the fake ksqlDB is stopped: cannot open a transport", BAD_REQUEST)
        return InMemoryTransport(self.broker, self)

    def close(self) -> None:
        """Close a client handle, as ``KSQLDBClient.close()`` does: a no-op here.

        The fake is also the ksqlDB *server* every app of a test shares (apps often close their
        client in ``app_event_loop_stopped``), so its tables keep following the broker;
        ``stop()`` ends materialization.
        """

    def stop(self) -> None:
        """Stop materializing (idempotent); the tables keep their last state."""
        with self._lock:
            self._stopped = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.stop()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={size}" for name, size in self._tables.sizes().items())
        return f"FakeKSQLDB({sizes})"


# Checked by mypy: the fake keeps the contract of the real client (``KSQLDBClient``).
_KEEPS_THE_CONTRACT: type[KSQLDB] = FakeKSQLDB
