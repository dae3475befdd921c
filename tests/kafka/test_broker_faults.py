"""What an app on the production transport does when its dependencies fail as processes do:
its broker (Tansu, a process of its own) paused, killed and restarted, its ksqlDB server stopped.

It keeps running (main loop and command intake), reports what could not be delivered, catches
up once the broker is back, and shuts down; each shutdown test prints how long that took
(``pytest -s``). The clients run with short timeouts (``CLIENT``) so the suite stays fast:
with librdkafka's defaults a record is retried for 30 s and a reconnection backs off up to
10 s. ``OFA_FAULTS_DEFAULTS=1`` adds the shutdown measurements with the SDK's default settings.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openfactory.apps import EventAttribute, OpenFactoryApp, ShutdownReport, ofa_method
from openfactory.commands import CommandEnvelope
from openfactory.errors import KSQLDBError
from openfactory.kafka import KafkaTransport, KSQLDBClient
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback import FakeKSQLDBServer, TansuBroker
from openfactory.transport import DeliveryReport, Transport
from openfactory.transport.wire import COMMAND_SUFFIX, COMMAND_TAG, asset_record

TIMEOUT = 20.0
#: Records fail after 1.5 s instead of 30 s; reconnections back off at most 0.2 s instead of 10 s.
CLIENT: dict[str, Any] = {"message.timeout.ms": 1500, "reconnect.backoff.max.ms": 200}
#: Whether an app's producer delivers again after Tansu restarts depends on timing (README,
#: "Brokers we test against"): if librdkafka ends in a fatal error the SDK replaces the producer
#: and delivery resumes; if it retries its lost producer id forever, Tansu refuses every batch.
#: These tests assert what holds either way and report which one happened.
CATCH_UP_WAIT = 5.0
#: Another client id: the caller gets a producer of its own, not the app's shared one.
CALLER: dict[str, Any] = {**CLIENT, "client.id": "fault-test-caller"}
APP = "FAULT-APP"
MEASURE_DEFAULTS = os.environ.get("OFA_FAULTS_DEFAULTS") == "1"


class Ticker(OpenFactoryApp):
    """Publishes ``ticks`` every turn of its loop; ``ping`` records its argument."""

    ticks = EventAttribute(value=0, tag="Ticks")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = threading.Event()
        self.changed = threading.Condition()
        self.turns = 0
        self.pings: list[str] = []

    @ofa_method()
    def ping(self, text: str) -> None:
        with self.changed:
            self.pings.append(text)
            self.changed.notify_all()

    def main_loop(self) -> None:
        while not self.stopping.wait(0.01):
            self.ticks = self.turns + 1
            with self.changed:
                self.turns += 1
                self.changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, TIMEOUT), (
                f"{what} within {TIMEOUT}s; turns={self.turns}, pings={self.pings}"
            )


class Running:
    """A ``Ticker`` running ``run()`` on a thread of its own, as its process's main thread would."""

    def __init__(self, app: Ticker) -> None:
        self.app = app
        self.report: ShutdownReport | None = None
        self.exit_status: int | str | None = 0  # what the process would exit with
        self.thread = threading.Thread(target=self._run, name="fault-app", daemon=True)
        self.thread.start()
        app.wait_for(lambda: app.turns >= 3, "the app did not start turning")

    def _run(self) -> None:
        try:
            self.app.run()
        except SystemExit as exit_:  # run() says so when the app lost records
            self.exit_status = exit_.code
        self.report = self.app.shutdown()  # run() ended in shutdown(): its report

    def stop(self, timeout: float = 60.0) -> float:
        """End the main loop; return how long the shutdown that follows took, in seconds."""
        started = time.monotonic()
        self.app.stopping.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"shutdown took more than {timeout}s"
        return time.monotonic() - started


@pytest.fixture
def broker() -> Iterator[TansuBroker]:
    """A Tansu broker of this test's own (the tests pause, kill and restart it)."""
    with TansuBroker() as started:
        yield started


@pytest.fixture
def start_app(
    broker: TansuBroker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Running]]:
    """Run a ``Ticker`` on ``broker`` through the production transport (stopped after)."""
    started: list[Running] = []

    def start(ksql: Any = None, config: dict[str, Any] | None = None, uuid: str = APP) -> Running:
        monkeypatch.setenv("APP_UUID", uuid)
        ksql = ksql if ksql is not None else FakeKSQLDB()
        transport = KafkaTransport(
            broker.bootstrap_servers, ksql, config=CLIENT if config is None else config
        )
        running = Running(Ticker(ksqlClient=ksql, transport=transport))
        started.append(running)
        return running

    yield start
    for running in started:
        if running.thread.is_alive():
            running.stop()


@pytest.fixture
def caller(broker: TansuBroker) -> Iterator[KafkaTransport]:
    """Another asset's transport (a producer of its own), to send the app commands."""
    with KafkaTransport(broker.bootstrap_servers, FakeKSQLDB(), config=CALLER) as transport:
        yield transport


def send(transport: Transport, method: str, **arguments: str) -> None:
    """Publish a ``<method>_CMD`` record on the app's key, as another asset would."""
    envelope = CommandEnvelope.new("fault-caller", arguments).to_json()
    record = asset_record(method + COMMAND_SUFFIX, envelope, COMMAND_TAG, "OpenFactory", "")
    transport.publish("ofa_assets", APP, record)


def ticks_on(broker: TansuBroker) -> list[int]:
    """The ``ticks`` values the broker holds for the app, in offset order."""
    return [
        r.json()["VALUE"]
        for r in broker.consume_all("ofa_assets", TIMEOUT)
        if r.key == APP and r.json()["ID"] == "ticks"
    ]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Check ``condition`` until it holds (it has no event to wait on); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout}s"
        threading.Event().wait(0.05)


def figure(text: str) -> None:
    """A measured figure, shown with ``pytest -s``."""
    print(f"\n[figure] {text}")


def test_a_paused_broker_is_survived_and_caught_up_with(
    broker: TansuBroker, start_app, caller: KafkaTransport, caplog: pytest.LogCaptureFixture
) -> None:
    running = start_app()
    app = running.app
    send(caller, "ping", text="before")
    app.wait_for(lambda: app.pings == ["before"], "the first command did not run")

    broker.pause()
    paused_at = app.turns
    # Records time out (message.timeout.ms): each is reported, counted and logged.
    wait_until(lambda: app.transport.failure_count > 0, "no record was reported undelivered")
    app.wait_for(lambda: app.turns >= paused_at + 20, "the main loop stopped turning")
    assert app.transport.flush(0.1).undelivered > 0  # still queued while nothing answers
    assert "was not delivered: Local: Message timed out" in caplog.text

    broker.resume()
    resumed_at = app.turns
    send(caller, "ping", text="after")
    app.wait_for(lambda: app.pings == ["before", "after"], "no command ran after the resume")
    wait_until(
        lambda: any(tick > resumed_at for tick in ticks_on(broker)),
        "no record published after the resume reached the broker",
    )
    running.stop()
    assert running.report is not None and running.report.errors == []
    lost = app.transport.failure_count
    figure(f"paused broker: {lost} record(s) reported undelivered, app ran on")


def test_a_killed_then_restarted_broker_is_survived(
    broker: TansuBroker, start_app, caplog: pytest.LogCaptureFixture
) -> None:
    running = start_app()
    app = running.app
    broker.kill()
    killed_at = app.turns
    wait_until(lambda: app.transport.failure_count > 0, "no record was reported undelivered")
    app.wait_for(lambda: app.turns >= killed_at + 20, "the main loop stopped turning")
    assert "was not delivered" in caplog.text

    broker.restart()  # empty: memory storage
    restarted_at = app.turns
    app.wait_for(lambda: app.turns >= restarted_at + 20, "the main loop stopped turning")
    caught_up = caught_up_with(broker, restarted_at)
    running.stop()
    assert running.report is not None and running.report.errors == []
    replaced = "replaced by a new one" in caplog.text
    figure(
        f"killed and restarted broker: app ran on, {app.transport.failure_count} record(s) "
        f"reported undelivered; producer replaced: {replaced}; records after the restart "
        f"delivered within {CATCH_UP_WAIT} s: {caught_up}"
    )


def caught_up_with(broker: TansuBroker, restarted_at: int) -> bool:
    """Whether a tick published after the restart reaches the broker within CATCH_UP_WAIT s."""
    deadline = time.monotonic() + CATCH_UP_WAIT
    while not any(tick > restarted_at for tick in ticks_on(broker)):
        if time.monotonic() >= deadline:
            return False
        threading.Event().wait(0.05)
    return True


def test_every_record_is_delivered_or_reported_across_a_restart(broker: TansuBroker) -> None:
    outcomes: list[DeliveryReport] = []
    lock = threading.Lock()

    def count(report: DeliveryReport) -> None:
        with lock:
            outcomes.append(report)

    with KafkaTransport(broker.bootstrap_servers, FakeKSQLDB(), config=CLIENT) as transport:
        published = 0
        for phase in ("before", "while killed", "after the restart"):
            for _ in range(20):
                transport.publish("faults", "k", b"%d" % published, count)
                published += 1
            if phase == "before":
                assert transport.flush(TIMEOUT).ok
                broker.kill()
            elif phase == "while killed":
                broker.restart()
        # Records time out after message.timeout.ms at the latest: each is then reported.
        assert transport.flush(TIMEOUT).undelivered == 0
    with lock:
        delivered = sum(1 for report in outcomes if report.ok)
        failed = len(outcomes) - delivered
    assert delivered + failed == published  # nothing lost without a report
    assert delivered >= 20 and failed == transport.failure_count
    figure(f"restart: {published} published, {delivered} delivered, {failed} reported failed")


@pytest.mark.parametrize("fault", ["paused", "killed"])
@pytest.mark.parametrize(
    "settings",
    [
        pytest.param("short timeouts", id="short"),
        pytest.param("SDK defaults, 2 s budget", id="defaults-2s"),
        pytest.param(
            "SDK defaults",
            id="defaults",
            marks=pytest.mark.skipif(
                not MEASURE_DEFAULTS, reason="about 8 s each: set OFA_FAULTS_DEFAULTS=1"
            ),
        ),
    ],
)
def test_shutdown_with_the_broker_down(
    broker: TansuBroker,
    start_app,
    fault: str,
    settings: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budget = 2.0 if "2 s budget" in settings else 8.0
    monkeypatch.setenv("OPENFACTORY_SHUTDOWN_TIMEOUT", str(budget))
    running = start_app(config=CLIENT if settings == "short timeouts" else {})
    app = running.app
    broker.pause() if fault == "paused" else broker.kill()
    down_at = app.turns
    app.wait_for(lambda: app.turns >= down_at + 50, "the main loop stopped turning")
    took = running.stop()
    report = running.report
    assert report is not None
    # Every step ran; what could not reach the broker is counted, not silently dropped.
    assert report.steps == ["unavailable", "deregister", "app_event_loop_stopped", "flush", "close"]
    assert report.lost > 0 and not report.clean
    assert running.exit_status == 1  # the process says records were lost
    # One budget for the whole shutdown, whatever is down (librdkafka's own 30 s retry of a
    # record included): the app's main loop ends within a turn, the rest is the shutdown.
    assert took < budget + 1.5, f"shutdown took {took:.1f} s with a {budget} s budget"
    figure(
        f"shutdown, broker {fault}, {settings}: {took:.1f} s, {report.lost} record(s) lost "
        f"({report.undelivered} still queued at the end of the budget, "
        f"{report.failed_deliveries} failed), exit status {running.exit_status}"
    )
    if fault == "paused":
        broker.resume()


@pytest.fixture
def ksqldb_server() -> Iterator[FakeKSQLDBServer]:
    """The fake ksqlDB over HTTP (its tables name the topics; the tests stop and restart it)."""
    with FakeKSQLDBServer() as server:
        yield server


def test_a_stopped_ksqldb_leaves_the_app_running_and_deregistering(
    broker: TansuBroker, start_app, caller: KafkaTransport, ksqldb_server: FakeKSQLDBServer
) -> None:
    with KSQLDBClient(ksqldb_server.url) as client:
        running = start_app(ksql=client)
        app = running.app
        ksqldb_server.stop()
        send(caller, "ping", text="while ksqlDB is down")  # commands come through Kafka
        app.wait_for(lambda: app.pings == ["while ksqlDB is down"], "no command ran")
        turns = app.turns
        app.wait_for(lambda: app.turns >= turns + 10, "the main loop stopped turning")
        took = running.stop()
    report = running.report
    assert report is not None
    # The tables' topics were resolved when the app was built: no ksqlDB needed to deregister.
    assert report.clean and running.exit_status == 0, report
    assert_deregistered(broker)
    assert [t for t in ticks_on(broker) if t > turns]  # Kafka itself was fine
    figure(f"shutdown, ksqlDB stopped: {took:.2f} s, {report.lost} record(s) lost, deregistered")


def assert_deregistered(broker: TansuBroker) -> None:
    """The app's tombstones are on the topics of the three tables, its UNS map record is reset."""
    for topic in ("assets_types_topic", "assets_avail_topic", "docker_services_topic"):
        assert [r.value for r in broker.consume_all(topic, TIMEOUT) if r.key == APP] == [None]
    (uns,) = [r for r in broker.consume_all("asset_to_uns_map_topic", TIMEOUT) if r.key == APP]
    assert uns.json()["uns_id"] is None


class BlackHole:
    """A TCP proxy to ``upstream`` (host, port) that, once ``hang()`` is called, accepts and
    reads every request and answers none: a ksqlDB that is up but never responds."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.hanging = threading.Event()
        self.requests_swallowed = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def hang(self) -> None:
        self.hanging.set()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.upstream)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self.hanging.is_set():
                    self.requests_swallowed += source is not target
                    continue  # read, never passed on, never answered
                target.sendall(data)


def test_a_hanging_ksqldb_cannot_stretch_the_shutdown(
    broker: TansuBroker, start_app, ksqldb_server: FakeKSQLDBServer
) -> None:
    host, port = ksqldb_server.url.removeprefix("http://").rsplit(":", 1)
    hole = BlackHole((host, int(port)))
    try:
        with KSQLDBClient(hole.url) as client:
            running = start_app(ksql=client)
            hole.hang()
            # It does hang: a query of a client that waits 0.5 s times out.
            with (
                KSQLDBClient(hole.url, max_retries=0, timeout=0.5) as probe,
                pytest.raises(KSQLDBError),
            ):
                probe.query("SELECT ID FROM assets WHERE ASSET_UUID='FAULT-APP';")
            took = running.stop()
    finally:
        hole.close()
    report = running.report
    assert report is not None and report.clean and running.exit_status == 0, report
    assert_deregistered(broker)
    assert took < 2.0, f"shutdown took {took:.1f} s"
    figure(f"shutdown, ksqlDB hanging: {took:.2f} s, {report.lost} record(s) lost, deregistered")


def test_a_restarted_ksqldb_serves_the_app_again(
    broker: TansuBroker, start_app, ksqldb_server: FakeKSQLDBServer
) -> None:
    with KSQLDBClient(ksqldb_server.url, max_retries=0) as client:
        running = start_app(ksql=client)
        url = ksqldb_server.url
        ksqldb_server.stop()
        ksqldb_server.restart()
        assert ksqldb_server.url == url
        took = running.stop()
    report = running.report
    assert report is not None and "deregister" in report.steps, report.errors
    tombstones = [r for r in broker.consume_all("assets_avail_topic", TIMEOUT) if r.key == APP]
    assert [r.value for r in tombstones] == [None]
    figure(f"shutdown, ksqlDB restarted: {took:.1f} s, deregistered")
