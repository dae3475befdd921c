"""The documented example as a real process on the production transport, over real protocols:
a Kafka broker on loopback (librdkafka's mock cluster, and Tansu as a process of its own) and
the fake ksqlDB served over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from process_lines import Lines

from openfactory.assets import Asset
from openfactory.kafka import KafkaTransport, KSQLDBClient
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror
from openfactory.testing.loopback.tansu import TansuBroker
from openfactory.transport import Record
from openfactory.transport.murmur2 import partition_for
from openfactory.transport.wire import asset_record, format_timestamp

DEMO = Path(__file__).parents[2] / "examples" / "demo_app.py"
APP = "DEMO-E2E"
TIMEOUT = 30.0
Broker = LoopbackKafka | TansuBroker
WIRE_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module", params=["mock", "tansu"])
def cluster(request: pytest.FixtureRequest) -> Iterator[tuple[Broker, FakeKSQLDBServer]]:
    with contextlib.ExitStack() as stack:
        kafka: Broker = stack.enter_context(
            LoopbackKafka() if request.param == "mock" else TansuBroker()
        )
        mirror = stack.enter_context(KafkaMirror(kafka.bootstrap_servers))
        server = stack.enter_context(FakeKSQLDBServer(FakeKSQLDB(mirror.broker)))
        yield kafka, server


def test_demo_app_process_speaks_the_wire_contract(cluster) -> None:
    kafka, server = cluster
    env = {
        **os.environ,
        "KAFKA_BROKER": kafka.bootstrap_servers,
        "KSQLDB_URL": server.url,
        "APP_UUID": APP,
    }
    process = subprocess.Popen(
        [sys.executable, str(DEMO)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    log = Lines(process.stderr, TIMEOUT)
    try:
        log.wait_for("Counter: 1")
        client = KSQLDBClient(server.url)
        caller = Asset(APP, client, kafka.bootstrap_servers)
        assert caller.wait_until("avail", "AVAILABLE", timeout=TIMEOUT, use_ksqlDB=True)
        assert set(caller.methods()) == {"move_axis", "stop_axis"}

        caller.move_axis(sender_uuid="E2E-CALLER", x="1.5", y="-2", speed="50")
        log.wait_for("Moving axis to x=1.5, y=-2.0 at speed=50")

        # A malformed command from another producer: logged, survived.
        raw = KafkaTransport(kafka.bootstrap_servers, client)
        raw.publish(
            "ofa_assets",
            APP,
            asset_record(
                "move_axis_CMD",
                "{not an envelope",
                "Method.Command",
                "OpenFactory",
                format_timestamp(),
            ),
        )
        raw.flush()
        rejected = log.wait_for("Failed to execute move_axis with '{not an envelope'")
        assert "command rejected: malformed command envelope" in rejected
        caller.stop_axis(sender_uuid="E2E-CALLER")
        log.wait_for("Stopping all axis")
        assert process.poll() is None
        caller.transport.flush()
        raw.close()
        caller.close()
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 0

    records = [r for r in kafka.consume_all("ofa_assets", TIMEOUT) if r.key == APP]
    values = [_exact_wire_json(r) for r in records]
    ids = [v["ID"] for v in values]
    assert [v["VALUE"] for v in values if v["ID"] == "avail"] == [
        "UNAVAILABLE",
        "AVAILABLE",
        "UNAVAILABLE",
    ]
    down = len(ids) - 1 - ids[::-1].index("avail")
    # everything the app published before the signal is there, and before UNAVAILABLE
    for registered in ("application_version", "status", "sample_rate", "move_axis", "stop_axis"):
        assert ids.index(registered) < down
    assert ids[down + 1 :] == ["references_below", "references_above"]
    for reference in values[down + 1 :]:
        assert (reference["VALUE"], reference["TYPE"], reference["TAG"]) == (
            "",
            "OpenFactory",
            "AssetsReferences",
        )
    commands = [v for v in values if v["ID"] == "move_axis_CMD"]
    # the empty placeholder published at start, then the two commands sent
    assert [c["VALUE"] == "" for c in commands] == [True, False, False]
    assert {(c["TYPE"], c["TAG"]) for c in commands} == {("OpenFactory", "Method.Command")}
    partitions = {r.partition for r in records}
    assert len(partitions) == 1  # one key, one partition: per-key order holds
    assert partitions == {partition_for(APP.encode(), _partition_count(kafka, "ofa_assets"))}

    for topic in ("assets_types_topic", "assets_avail_topic", "docker_services_topic"):
        (tombstone,) = [r for r in kafka.consume_all(topic, TIMEOUT) if r.key == APP]
        assert tombstone.value is None
    (uns,) = [r for r in kafka.consume_all("asset_to_uns_map_topic", TIMEOUT) if r.key == APP]
    decoded = json.loads(uns.value)
    assert decoded == {
        "asset_uuid": APP,
        "uns_id": None,
        "uns_levels": None,
        "updated_at": decoded["updated_at"],
    }


def _exact_wire_json(record: Record) -> dict:
    value = json.loads(record.value)
    assert list(value) == ["ID", "VALUE", "TAG", "TYPE", "attributes"]
    assert list(value["attributes"]) == ["timestamp"]
    assert WIRE_TIMESTAMP.match(value["attributes"]["timestamp"])
    assert record.value == json.dumps(value).encode("utf-8")  # byte for byte
    return value


def _partition_count(kafka: Broker, topic: str) -> int:
    return kafka.create_topic(topic)
