"""The Tansu rig: a Kafka-compatible broker in a process of its own, with process faults."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from openfactory.errors import ConfigurationError, TransportError
from openfactory.testing.loopback import TansuBroker

TIMEOUT = 10.0


@pytest.fixture
def broker() -> Iterator[TansuBroker]:
    """A broker of this test's own: these tests pause, kill and restart it."""
    with TansuBroker() as started:
        yield started


def produce(bootstrap: str, topic: str, count: int) -> int:
    """Produce ``count`` records with a plain client; return how many are left undelivered."""
    producer = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": 3000})
    for n in range(count):
        producer.produce(topic, b"%d" % n, b"key-%d" % (n % 3))
    return int(producer.flush(TIMEOUT))


def accepts_connections(broker: TansuBroker) -> bool:
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


def test_a_broker_holds_what_is_produced(broker: TansuBroker) -> None:
    assert broker.running and broker.pid is not None
    assert broker.create_topic("rig-topic", partitions=3) == 3
    assert broker.create_topic("rig-topic", partitions=5) == 3  # exists: left as it is
    assert produce(broker.bootstrap_servers, "rig-topic", 30) == 0
    records = broker.consume_all("rig-topic", TIMEOUT)
    assert len(records) == 30
    assert sorted(int(r.value or b"") for r in records) == list(range(30))
    assert broker.consume_all("no-such-topic", TIMEOUT) == []


def test_pause_freezes_the_process_and_resume_lets_it_answer(broker: TansuBroker) -> None:
    broker.create_topic("paused-topic")
    broker.pause()
    assert broker.paused and broker.running
    with pytest.raises(TransportError):
        broker.consume_all("paused-topic", timeout=1.0)
    broker.resume()
    assert not broker.paused
    assert produce(broker.bootstrap_servers, "paused-topic", 5) == 0
    assert len(broker.consume_all("paused-topic", TIMEOUT)) == 5


def test_kill_refuses_connections_and_restart_comes_back_empty_on_the_same_port(
    broker: TansuBroker,
) -> None:
    address, first_pid = broker.bootstrap_servers, broker.pid
    assert produce(address, "lost-topic", 10) == 0
    broker.kill()
    assert not broker.running and broker.pid is None
    assert broker.bootstrap_servers == address  # clients keep the address of a killed broker
    assert not accepts_connections(broker)
    with pytest.raises(TransportError, match="not running"):
        broker.consume_all("lost-topic")

    broker.restart()
    assert broker.bootstrap_servers == address and broker.pid != first_pid
    assert broker.consume_all("lost-topic", TIMEOUT) == []  # memory storage: all gone
    assert produce(address, "lost-topic", 4) == 0
    assert len(broker.consume_all("lost-topic", TIMEOUT)) == 4


def test_restart_of_a_running_broker_keeps_its_port(broker: TansuBroker) -> None:
    address = broker.bootstrap_servers
    broker.restart()
    assert broker.bootstrap_servers == address and accepts_connections(broker)


def test_stop_ends_the_process_and_forgets_the_address() -> None:
    broker = TansuBroker().start()
    pid = broker.pid
    assert pid is not None
    broker.stop()
    broker.stop()
    assert not broker.running
    with pytest.raises(TransportError, match="start"):
        _ = broker.bootstrap_servers
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(TransportError, match="start"):
        broker.restart()


def test_faults_on_a_broker_that_is_not_running_say_so() -> None:
    broker = TansuBroker()
    for fault in (broker.pause, broker.resume, broker.kill):
        with pytest.raises(TransportError, match="not running"):
            fault()


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"host": "0.0.0.0"}, "loopback"),
        ({"host": "10.1.2.3"}, "loopback"),
        ({"host": "localhost-ish"}, "loopback"),
        ({"port": -1}, "port"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict, complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        TansuBroker(**arguments)


def test_a_binary_that_cannot_run_is_reported() -> None:
    with pytest.raises(TransportError, match="cannot run"):
        TansuBroker(binary="/nonexistent/tansu").start()


def test_the_module_runs_a_broker_and_prints_its_address() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "openfactory.testing.loopback.tansu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        host, port = address.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        assert produce(address, "from-cli", 3) == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 0
