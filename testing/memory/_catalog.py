"""The fake ksqlDB's catalog: OpenFactory's streams and tables, their columns and topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openfactory.transport.wire import (
    ASSETS_AVAIL_TABLE,
    ASSETS_STREAM,
    ASSETS_TABLE,
    ASSETS_TYPE_TABLE,
    DOCKER_SERVICES_TABLE,
    UNS_MAP_STREAM,
)

ASSETS_TOPIC = "ofa_assets"
_S = "STRING"
_MAP = "MAP<STRING, STRING>"


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # STREAM or TABLE
    topic: str
    columns: tuple[tuple[str, str], ...]  # (name, ksqlDB type) in schema order
    key: str | None = None

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


SOURCES = (
    Source(ASSETS_STREAM, "STREAM", ASSETS_TOPIC, (("ASSET_UUID", _S), ("ID", _S),
            ("VALUE", _S), ("TAG", _S), ("TYPE", _S), ("ATTRIBUTES", _MAP)), "ASSET_UUID"),
    Source(UNS_MAP_STREAM.upper(), "STREAM", "asset_to_uns_map_raw_topic", (("ASSET_UUID", _S),
            ("UNS_ID", _S), ("UNS_LEVELS", _MAP), ("UPDATED_AT", "BIGINT"))),
    Source(ASSETS_TABLE.upper(), "TABLE", "assets_topic", (("KEY", _S), ("ASSET_UUID", _S),
            ("ID", _S), ("VALUE", _S), ("TYPE", _S), ("TAG", _S), ("TIMESTAMP", _S)), "KEY"),
    Source(ASSETS_TYPE_TABLE.upper(), "TABLE", "assets_types_topic",
            (("ASSET_UUID", _S), ("TYPE", _S)), "ASSET_UUID"),
    Source(ASSETS_AVAIL_TABLE.upper(), "TABLE", "assets_avail_topic",
            (("ASSET_UUID", _S), ("AVAILABILITY", _S)), "ASSET_UUID"),
    Source(DOCKER_SERVICES_TABLE.upper(), "TABLE", "docker_services_topic",
            (("ASSET_UUID", _S), ("DOCKER_SERVICE", _S)), "ASSET_UUID"),
)  # fmt: skip
TOPICS: dict[str, str] = {source.name: source.topic for source in SOURCES}
"""ksqlDB stream/table name -> the Kafka topic behind it, as the fake's catalog has them."""
# Which asset attributes feed which single-value table, and its value column.
DERIVED = {
    "avail": (ASSETS_AVAIL_TABLE.upper(), "AVAILABILITY"),
    "agent_avail": (ASSETS_AVAIL_TABLE.upper(), "AVAILABILITY"),
    "DockerService": (DOCKER_SERVICES_TABLE.upper(), "DOCKER_SERVICE"),
}
