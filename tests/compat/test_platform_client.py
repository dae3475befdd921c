"""The platform's own client calls a method of the demo app, over the wire.

The demo app (``examples/demo_app.py``) runs in a process of its own on the production transport;
Kafka is librdkafka's mock cluster on loopback and ksqlDB the fake one served over HTTP, fed from
that cluster. The caller is ``PlatformClient`` (tests/support/platform_client.py): the platform
library's 0.5.3 ``Asset`` as it behaves on the wire, which sends a command only through a
``<method>_CMD`` attribute its ``attributes()`` query lists (reference sections 4.6, 9.2, 10).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_client import PlatformClient, poll
from process_lines import Lines

from openfactory.kafka import KSQLDBClient
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror

DEMO = Path(__file__).parents[2] / "examples" / "demo_app.py"
APP = "DEMO-PLATFORM-CLIENT"
TIMEOUT = 30.0


@pytest.fixture
def ksqldb_url(ofa_loopback_kafka: LoopbackKafka) -> Iterator[str]:
    with (
        KafkaMirror(ofa_loopback_kafka.bootstrap_servers) as mirror,
        FakeKSQLDBServer(FakeKSQLDB(mirror.broker)) as server,
    ):
        yield server.url


def test_the_platforms_client_calls_the_demo_app(
    ofa_loopback_kafka: LoopbackKafka, ksqldb_url: str
) -> None:
    kafka = ofa_loopback_kafka.bootstrap_servers
    env = {**os.environ, "KAFKA_BROKER": kafka, "KSQLDB_URL": ksqldb_url, "APP_UUID": APP}
    process = subprocess.Popen(
        [sys.executable, str(DEMO)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    log = Lines(process.stderr, TIMEOUT)  # type: ignore[arg-type]
    ksql = KSQLDBClient(ksqldb_url, loglevel="WARNING")
    try:
        client = PlatformClient(APP, ksql, kafka)
        assert client.wait_for("avail", "AVAILABLE", TIMEOUT)
        assert client.availability() == [{"ASSET_UUID": APP, "AVAILABILITY": "AVAILABLE"}]
        assert client.methods()["move_axis"] == {
            "description": "Move to a given (x, y) position with speed",
            "arguments": [
                {"name": "x", "description": ""},
                {"name": "y", "description": ""},
                {"name": "speed", "description": ""},
            ],
        }
        # The placeholders published at start are what the client's gate looks for.
        assert {"move_axis_CMD", "stop_axis_CMD"} <= set(client.attributes())

        client.method("move_axis", "HMI-1", [("x", "1.5"), ("y", "-2"), ("speed", " 50 ")])
        log.wait_for("Moving axis to x=1.5, y=-2.0 at speed=50")
        client.method("stop_axis", "HMI-1")
        log.wait_for("Stopping all axis")
        client.method("fly_away", "HMI-1", [("to", "moon")])  # not listed: not sent
        assert client.sent == ["move_axis_CMD", "stop_axis_CMD"]
        assert process.poll() is None
        assert not [line for line in log.lines if " ERROR " in line]
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 0
    try:
        assert client.wait_for("avail", "UNAVAILABLE", TIMEOUT)
        # then its assets_avail row is tombstoned (another topic: it may come a little later)
        assert poll(lambda: client.availability() == [], TIMEOUT)
    finally:
        ksql.close()
