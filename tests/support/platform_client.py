"""``PlatformClient``: the platform library's 0.5.3 ``Asset`` client as seen on the wire, as
much of it as reading an asset and calling one of its methods needs (reference 4.2, 4.6, 9.4).

Written from the reference, independent of this SDK's ``Asset``: it reads through ksqlDB with
the platform's statements, verbatim, and publishes with a bare confluent-kafka producer (the
librdkafka default partitioner, a flush after every record). Like 0.5.3, ``method()`` sends a
command only through a ``<method>_CMD`` attribute that ``attributes()`` already lists, with that
attribute's current TYPE and TAG; otherwise nothing is sent and the id is still returned.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Producer

from openfactory.kafka import KSQLDBClient

_POLL_S = 0.05  # ksqlDB's tables change without notice: asked again at this interval


def poll(condition: Callable[[], bool], timeout: float) -> bool:
    """Ask ``condition()`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    idle = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        idle.wait(_POLL_S)
    return True


class PlatformClient:
    """A 0.5.3 ``Asset(asset_uuid, ksqlClient, bootstrap_servers)`` client of one asset."""

    def __init__(self, asset_uuid: str, ksql: KSQLDBClient, bootstrap_servers: str) -> None:
        self.asset_uuid = asset_uuid
        self.ksql = ksql
        self.topic = ksql.get_kafka_topic("ASSETS_STREAM")  # DESCRIBE ASSETS_STREAM EXTENDED;
        self._producer = Producer({"bootstrap.servers": bootstrap_servers})
        self.sent: list[str] = []  # the command attributes actually published

    def attributes(self) -> list[str]:
        """Every non-Method attribute id (bookkeeping ones and ``<m>_CMD`` included)."""
        rows = self.ksql.query(
            f"SELECT ID FROM assets WHERE asset_uuid='{self.asset_uuid}' AND TYPE != 'Method';"
        )
        return [row["ID"] for row in rows]

    def methods(self) -> dict[str, Any]:
        """Method id -> its parsed contract."""
        rows = self.ksql.query(
            f"SELECT ID, VALUE, TYPE FROM assets WHERE asset_uuid='{self.asset_uuid}' "
            "AND TYPE='Method';"
        )
        return {row["ID"]: json.loads(row["VALUE"]) for row in rows}

    def attribute(self, attribute_id: str) -> dict[str, Any] | None:
        """``{"VALUE", "TYPE", "TAG", "TIMESTAMP"}`` of one attribute, ``None`` if it has none."""
        rows = self.ksql.query(
            "SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets "
            f"WHERE key='{self.asset_uuid}|{attribute_id}';"
        )
        return rows[0] if rows else None

    def availability(self) -> list[dict[str, Any]]:
        """This asset's rows of ``assets_avail`` (the platform's ``OpenFactory`` client reads
        ``SELECT * FROM assets_avail;``)."""
        return [r for r in self.ksql.query("SELECT * FROM assets_avail;")
                if r["ASSET_UUID"] == self.asset_uuid]  # fmt: skip

    def method(
        self, method: str, sender_uuid: str, args: list[tuple[str, str]] | None = None
    ) -> str:
        """Ask the asset to run ``method``; returns the command's correlation id."""
        correlation_id = uuid.uuid4()
        envelope = {
            "header": {
                "correlation_id": str(correlation_id),
                "sender_uuid": sender_uuid,
                "timestamp": datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z",
                "signature": None,
            },
            "arguments": {name: value.strip() for name, value in (args or [])},
        }
        command = f"{method}_CMD"
        # 0.5.3 sends by assigning self.<method>_CMD: only an attribute the asset lists is sent.
        if command in self.attributes():
            current = self.attribute(command) or {}
            self._publish(command, json.dumps(envelope, separators=(",", ":")),
                          current.get("TAG"), current.get("TYPE"))  # fmt: skip
            self.sent.append(command)
        return str(correlation_id)

    def wait_for(self, attribute_id: str, value: Any, timeout: float) -> bool:
        """Ask ksqlDB until ``attribute_id`` reads ``value``; False after ``timeout`` seconds."""

        def reads_value() -> bool:
            current = self.attribute(attribute_id)
            return current is not None and current["VALUE"] == value

        return poll(reads_value, timeout)

    def close(self) -> None:
        """Deliver what is queued."""
        self._producer.flush(10)

    def _publish(self, attribute_id: str, value: str, tag: Any, type_: Any) -> None:
        timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        record = {"ID": attribute_id, "VALUE": value, "TAG": tag, "TYPE": type_,
                  "attributes": {"timestamp": timestamp}}  # fmt: skip
        self._producer.produce(self.topic, key=self.asset_uuid, value=json.dumps(record))
        self._producer.flush(10)
