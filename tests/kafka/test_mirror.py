"""The fake ksqlDB materializing from a real (loopback) Kafka cluster, from Python and the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import pytest

from openfactory.assets import Asset, AssetAttribute
from openfactory.errors import ConfigurationError
from openfactory.kafka import KSQLDBClient
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.testing.loopback.mirror import KafkaMirror


@pytest.fixture(scope="module")
def kafka():
    with LoopbackKafka() as cluster:
        yield cluster


def test_mirror_copies_records_and_tombstones(kafka: LoopbackKafka) -> None:
    with KafkaMirror(kafka.bootstrap_servers) as mirror:
        ksqldb = FakeKSQLDB(mirror.broker)
        writer = Asset("PUMP-9", KSQLDBClientStandIn(ksqldb), kafka.bootstrap_servers)
        writer.add_attribute("rpm", AssetAttribute(1200.0, "Samples", "Speed"))
        writer.add_attribute("avail", AssetAttribute("AVAILABLE", "Events", "Availability"))
        assert writer.transport.flush().ok
        assert mirror.sync(10)
        rows = ksqldb.query("SELECT VALUE FROM assets WHERE ASSET_UUID='PUMP-9' AND ID='rpm';")
        assert rows == [{"VALUE": "1200.0"}]
        assert ksqldb.query("SELECT AVAILABILITY FROM assets_avail;") == [
            {"AVAILABILITY": "AVAILABLE"}
        ]
        writer.transport.publish("assets_avail_topic", "PUMP-9", None)
        assert writer.transport.flush().ok and mirror.sync(10)
        assert ksqldb.query("SELECT * FROM assets_avail;") == []
        writer.close()


def test_mirror_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="bootstrap_servers"):
        KafkaMirror("")
    with pytest.raises(ConfigurationError, match="topics"):
        KafkaMirror("127.0.0.1:1", topics=[""])


def test_server_command_line_materializes_from_kafka(kafka: LoopbackKafka) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "openfactory.testing.loopback.ksqldb_server", "--kafka",
         kafka.bootstrap_servers],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        client = KSQLDBClient(url)
        writer = Asset("FAN-2", client, kafka.bootstrap_servers)
        writer.add_attribute("state", AssetAttribute("spinning", "Events", "Fan.State"))
        assert writer.transport.flush().ok
        reader = Asset("FAN-2", client, kafka.bootstrap_servers)
        assert reader.wait_until("state", "spinning", timeout=20, use_ksqlDB=True)
        writer.close()
        reader.close()
        client.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class KSQLDBClientStandIn:
    """A ksqlDB client answering from a fake, but not a ``FakeKSQLDB`` itself, so the asset
    takes the Kafka transport (it keeps the whole ``KSQLDB`` contract, as Kafka asks)."""

    def __init__(self, ksqldb: FakeKSQLDB) -> None:
        self._ksqldb = ksqldb

    def info(self) -> dict[str, Any]:
        return self._ksqldb.info()

    def streams(self) -> list[str]:
        return self._ksqldb.streams()

    def tables(self) -> list[str]:
        return self._ksqldb.tables()

    def get_kafka_topic(self, name: str) -> str:
        return self._ksqldb.get_kafka_topic(name)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self._ksqldb.query(sql)

    def statement_query(self, sql: str) -> list[dict[str, Any]]:
        return self._ksqldb.statement_query(sql)

    def insert_into_stream(self, stream: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._ksqldb.insert_into_stream(stream, rows)

    def close(self) -> None:
        """The fake is the test's: it stays open."""
