"""The fake ksqlDB's catalog: the platform's streams and tables (reference §9.5), their columns,
their topics and which topic feeds which table.

Where the reference gives no topic ("ksqlDB-internal": the sinks of ``CREATE TABLE AS SELECT``),
``assets`` and ``assets_uns`` are named ``<name>_topic`` and ``asset_to_uns_map`` gets ksqlDB's
default sink name (the upper-cased table name), since ``asset_to_uns_map_topic`` is the raw
table's. ``asset_to_uns_map_raw`` is a plain ``CREATE TABLE`` on its topic: ksqlDB takes inserts
into it but refuses pull queries (the platform queries ``asset_to_uns_map``, derived from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openfactory.transport.wire import (
    ASSETS_AVAIL_TABLE,
    ASSETS_STREAM,
    ASSETS_TABLE,
    ASSETS_TYPE_TABLE,
    ASSETS_UNS_STREAM,
    ASSETS_UNS_TABLE,
    DOCKER_SERVICES_TABLE,
    ENRICHED_ASSETS_STREAM,
    METRICS_TARGETS_TABLE,
    UNS_MAP_RAW_TABLE,
    UNS_MAP_TABLE,
)

ASSETS_TOPIC = "ofa_assets"
ASSETS_UNS_TOPIC = "ofa_assets_uns"
_S = "STRING"
_MAP = "MAP<STRING, STRING>"
_TS = "TIMESTAMP"


@dataclass(frozen=True)
class Source:
    """A stream or table: ``queryable`` by pull queries, ``writable`` by inserts."""

    name: str
    kind: str  # STREAM or TABLE
    topic: str
    columns: tuple[tuple[str, str], ...]  # (name, ksqlDB type) in schema order
    key: str
    queryable: bool = False
    writable: bool = False

    def description(self, partitions: int, extended: bool) -> dict[str, Any]:
        """The ``sourceDescription`` that ``DESCRIBE <name> [EXTENDED]`` answers."""
        key = " KEY" if self.kind == "STREAM" else " PRIMARY KEY"
        columns = ", ".join(f"{c} {t}{key if c == self.key else ''}" for c, t in self.columns)
        return {
            "name": self.name, "windowType": None, "readQueries": [], "writeQueries": [],
            "fields": [_field(c, t, c == self.key) for c, t in self.columns],
            "type": self.kind, "timestamp": "", "statistics": "", "errorStats": "",
            "extended": extended, "keyFormat": "KAFKA", "valueFormat": "JSON", "topic": self.topic,
            "partitions": partitions if extended else 0, "replication": 1 if extended else 0,
            "statement": f"CREATE {self.kind} {self.name} ({columns}) WITH (KAFKA_TOPIC="
            f"'{self.topic}', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON');",
            "queryOffsetSummaries": [], "sourceConstraints": [], "clusterStatistics": [],
            "clusterErrorStats": [],
        }  # fmt: skip


def _field(name: str, type_: str, key: bool) -> dict[str, Any]:
    def schema(type_: str) -> dict[str, Any]:
        member = schema(_S) if type_ == _MAP else None
        return {"type": type_.split("<")[0], "fields": None, "memberSchema": member}

    return {"name": name, "schema": schema(type_), **({"type": "KEY"} if key else {})}


def _stream(name: str, topic: str, columns: tuple[tuple[str, str], ...]) -> Source:
    return Source(name.upper(), "STREAM", topic, columns, columns[0][0], writable=True)


def _table(name: str, topic: str, columns: tuple[tuple[str, str], ...], **kind: bool) -> Source:
    return Source(name.upper(), "TABLE", topic, columns, columns[0][0], **kind)


_ATTRIBUTE = (("ID", _S), ("VALUE", _S), ("TAG", _S), ("TYPE", _S), ("ATTRIBUTES", _MAP))
_STATE = (("ID", _S), ("VALUE", _S), ("TYPE", _S), ("TAG", _S), ("TIMESTAMP", _S))
_UNS_MAP = (("ASSET_UUID", _S), ("UNS_ID", _S), ("UNS_LEVELS", _MAP), ("UPDATED_AT", _TS))

ASSETS = _table(ASSETS_TABLE, "assets_topic", (("KEY", _S), ("ASSET_UUID", _S), *_STATE),
                queryable=True)  # fmt: skip
ASSETS_TYPE = _table(ASSETS_TYPE_TABLE, "assets_types_topic",
                     (("ASSET_UUID", _S), ("TYPE", _S)), queryable=True)  # fmt: skip
ASSETS_AVAIL = _table(ASSETS_AVAIL_TABLE, "assets_avail_topic",
                      (("ASSET_UUID", _S), ("AVAILABILITY", _S)), queryable=True)  # fmt: skip
DOCKER_SERVICES = _table(DOCKER_SERVICES_TABLE, "docker_services_topic",
                         (("ASSET_UUID", _S), ("DOCKER_SERVICE", _S)), queryable=True)  # fmt: skip
UNS_MAP_RAW = _table(UNS_MAP_RAW_TABLE, "asset_to_uns_map_topic", _UNS_MAP, writable=True)
UNS_MAP = _table(UNS_MAP_TABLE, UNS_MAP_TABLE.upper(), _UNS_MAP, queryable=True)
ASSETS_UNS = _table(ASSETS_UNS_TABLE, "assets_uns_topic", (("KEY", _S), ("ASSET_UUID_KEY", _S),
                    ("UNS_ID", _S), ("ASSET_UUID", _S), *_STATE), queryable=True)  # fmt: skip
METRICS_TARGETS = _table(METRICS_TARGETS_TABLE, "metrics_targets_topic", (("APPLICATION_UUID", _S),
                         ("HOST", _S), ("PORT", _S), ("PATH", _S)), queryable=True)  # fmt: skip

SOURCES = (
    _stream(ASSETS_STREAM, ASSETS_TOPIC, (("ASSET_UUID", _S), *_ATTRIBUTE)),
    _stream(ENRICHED_ASSETS_STREAM, "enriched_assets_stream_topic",
            (("KEY", _S), ("ASSET_UUID", _S), *_STATE)),
    _stream(ASSETS_UNS_STREAM, ASSETS_UNS_TOPIC, (("UNS_ID", _S), ("ASSET_UUID_KEY", _S),
            ("ASSET_UUID", _S), *_ATTRIBUTE)),
    ASSETS, ASSETS_TYPE, ASSETS_AVAIL, DOCKER_SERVICES, UNS_MAP_RAW, UNS_MAP, ASSETS_UNS,
    METRICS_TARGETS,
)  # fmt: skip
TOPICS: dict[str, str] = {source.name: source.topic for source in SOURCES}
"""ksqlDB stream/table name -> the Kafka topic behind it, as the fake's catalog has them."""

TABLE_FEEDS: dict[str, Source] = {
    ASSETS_TYPE.topic: ASSETS_TYPE,
    ASSETS_AVAIL.topic: ASSETS_AVAIL,
    DOCKER_SERVICES.topic: DOCKER_SERVICES,
    UNS_MAP_RAW.topic: UNS_MAP,  # asset_to_uns_map = SELECT * FROM asset_to_uns_map_raw
    METRICS_TARGETS.topic: METRICS_TARGETS,
}
"""Topic -> the table its keyed JSON records upsert (a tombstone deletes the row)."""

# Which asset attributes feed which single-value table: (table, value column, whether a
# VALUE of "delete" tombstones the row, as the platform's ksqlDB queries do).
DERIVED = {
    "avail": (ASSETS_AVAIL.name, "AVAILABILITY", True),
    "agent_avail": (ASSETS_AVAIL.name, "AVAILABILITY", True),
    "DockerService": (DOCKER_SERVICES.name, "DOCKER_SERVICE", False),
}
DELETE = "delete"
