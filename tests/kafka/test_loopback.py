"""The loopback Kafka cluster speaks the real protocol, on 127.0.0.1 only."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys

import pytest
from confluent_kafka import Producer

from openfactory.errors import ConfigurationError, TransportError
from openfactory.testing.loopback.kafka import MOCK_DEFAULT_PARTITIONS, LoopbackKafka


def test_runs_on_loopback_and_round_trips_records() -> None:
    with LoopbackKafka() as cluster:
        host, _, port = cluster.bootstrap_servers.partition(":")
        assert host == "127.0.0.1" and int(port) > 0
        assert cluster.create_topic("plain") == MOCK_DEFAULT_PARTITIONS
        quiet = logging.getLogger("tests.loopback.librdkafka")
        producer = Producer({"bootstrap.servers": cluster.bootstrap_servers, "logger": quiet})
        for n in range(5):
            producer.produce("plain", key=b"k", value=b"%d" % n)
        producer.produce("plain", key=b"k", value=None)
        assert producer.flush(5) == 0
        records = cluster.consume_all("plain")
        assert [r.value for r in records] == [b"0", b"1", b"2", b"3", b"4", None]
        assert {r.key for r in records} == {"k"} and records[-1].is_tombstone
        assert [r.offset for r in records] == list(range(6))
        assert cluster.consume_all("empty") == []


def test_stop_is_idempotent_and_final() -> None:
    cluster = LoopbackKafka().start()
    assert cluster.running and "127.0.0.1" in repr(cluster)
    cluster.stop()
    cluster.stop()
    assert not cluster.running
    with pytest.raises(TransportError, match="not running"):
        _ = cluster.bootstrap_servers
    with pytest.raises(TransportError, match="not running"):
        cluster.create_topic("t")


def test_a_cluster_with_a_network_round_trip_still_round_trips_records() -> None:
    with LoopbackKafka(round_trip_ms=5) as cluster:
        assert cluster.round_trip_ms == 5
        producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
        producer.produce("slow", key=b"k", value=b"late but there")
        assert producer.flush(10) == 0
        assert [r.value for r in cluster.consume_all("slow")] == [b"late but there"]


def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="brokers"):
        LoopbackKafka(brokers=0)
    for round_trip in (-1, 1.5, True):
        with pytest.raises(ConfigurationError, match="round_trip_ms"):
            LoopbackKafka(round_trip_ms=round_trip)  # type: ignore[arg-type]
    with LoopbackKafka() as cluster:
        with pytest.raises(ConfigurationError, match="topic name"):
            cluster.create_topic("")
        with pytest.raises(ConfigurationError, match="partitions"):
            cluster.create_topic("t", partitions=0)


def test_command_line_entry_prints_address_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "openfactory.testing.loopback"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        assert address.startswith("127.0.0.1:")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
