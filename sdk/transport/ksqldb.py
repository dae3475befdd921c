"""``KSQLDB``: the typed contract of a ksqlDB client, as apps, assets and transports use it.

``openfactory.kafka.KSQLDBClient`` (over HTTP) and ``openfactory.testing.FakeKSQLDB`` (in memory)
both satisfy it; mypy holds them to it. Every method raises ``KSQLDBError`` on failure.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KSQLDB(Protocol):
    """What the SDK asks of a ksqlDB client (the ``ksqlClient`` of an app or asset)."""

    def info(self) -> dict[str, Any]:
        """The server's ``/info`` answer."""
        ...

    def streams(self) -> list[str]:
        """Names of the streams ksqlDB knows."""
        ...

    def tables(self) -> list[str]:
        """Names of the tables ksqlDB knows."""
        ...

    def get_kafka_topic(self, name: str) -> str:
        """The Kafka topic behind stream or table ``name``."""
        ...

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a pull query; one dict per row, keyed by column name."""
        ...

    def statement_query(self, sql: str) -> list[dict[str, Any]]:
        """Run a ``/ksql`` statement (``DESCRIBE``, ``SHOW``, DDL); the parsed response."""
        ...

    def insert_into_stream(self, stream: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert ``rows`` into ``stream``; one acknowledgement per row."""
        ...

    def close(self) -> None:
        """Release the client's connections."""
        ...
