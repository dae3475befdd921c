"""``OpenFactoryApp`` construction, environment and lifecycle on the in-memory broker."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading

import pytest

from openfactory._threads import start_background_thread
from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.errors import ConfigurationError
from openfactory.kafka import KSQLDBClient
from openfactory.testing import FakeKSQLDB, embedded_broker


class Counter(OpenFactoryApp):
    count = SampleAttribute(value=0, tag="Counter.Value")
    status = EventAttribute(value="idle", tag="App.Status")

    def main_loop(self) -> None:
        for _ in range(3):
            self.count = self.count.value + 1
        self.status = "done"


class Failing(OpenFactoryApp):
    def main_loop(self) -> None:
        raise RuntimeError("sensor unplugged")


class Waiting(OpenFactoryApp):
    """Runs until a signal stops it; ``started`` tells the test it is in its loop."""

    started = threading.Event()

    def main_loop(self) -> None:
        self.started.set()
        idle = threading.Event()
        # Blocks until the signal handler raises into it. In waits with a timeout: on this
        # machine's kernel a signal does not always wake a thread blocked in an endless lock
        # wait, and CPython only runs the handler once the wait returns.
        while True:
            idle.wait(0.1)


def avail_values(ksqldb: FakeKSQLDB, uuid: str = "DEV-UUID") -> list[str]:
    return [
        r.json()["VALUE"]
        for r in ksqldb.broker.records("ofa_assets", uuid)
        if r.json()["ID"] == "avail"
    ]


def test_app_uuid_defaults_and_replicas(monkeypatch: pytest.MonkeyPatch, ofa_ksqldb) -> None:
    assert Counter(ofa_ksqldb).asset_uuid == "DEV-UUID"
    monkeypatch.setenv("APP_UUID", "PRESS-7")
    monkeypatch.setenv("SWARM_REPLICAS", "3")
    monkeypatch.setenv("SWARM_TASK_SLOT", "2")
    assert Counter(ofa_ksqldb).asset_uuid == "PRESS-7-2"
    monkeypatch.setenv("SWARM_REPLICAS", "many")
    with pytest.raises(ConfigurationError, match=r"SWARM_REPLICAS.*'many'"):
        Counter(ofa_ksqldb)


def test_addresses_fall_back_to_environment(monkeypatch: pytest.MonkeyPatch, ofa_ksqldb) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "kafka:9092")
    monkeypatch.setenv("ASSET_ROUTER_URL", "http://router:8080")
    app = Counter(ofa_ksqldb)
    assert (app.bootstrap_servers, app.asset_router_url) == ("kafka:9092", "http://router:8080")
    explicit = Counter(ofa_ksqldb, bootstrap_servers="b:1", asset_router_url="http://r")
    assert (explicit.bootstrap_servers, explicit.asset_router_url) == ("b:1", "http://r")


def test_application_metadata_from_environment(monkeypatch: pytest.MonkeyPatch, ofa_ksqldb) -> None:
    monkeypatch.setenv("APPLICATION_VERSION", "2.1.0")
    monkeypatch.setenv("APPLICATION_MANUFACTURER", "ACME")
    monkeypatch.setenv("APPLICATION_LICENSE", "MIT")
    app = Counter(ofa_ksqldb)
    assert app.application_version.value == "2.1.0"
    assert app.application_manufacturer.value == "ACME"
    assert app.application_license.value == "MIT"
    assert app.openfactory_manufacturer.value == "OpenFactoryIO"


def test_bad_loglevel_is_rejected(ofa_ksqldb) -> None:
    with pytest.raises(ConfigurationError, match="'LOUD'"):
        Counter(ofa_ksqldb, loglevel="LOUD")


def test_logger_is_prefixed_with_uuid(ofa_ksqldb, capsys: pytest.CaptureFixture[str]) -> None:
    app = Counter(ofa_ksqldb)
    app.logger.info("hello")
    assert isinstance(app.logger, logging.Logger)
    line = capsys.readouterr().err
    assert line.startswith("[DEV-UUID] (") and line.endswith(") INFO hello\n")


def test_storage_from_environment(monkeypatch: pytest.MonkeyPatch, ofa_ksqldb, tmp_path) -> None:
    assert Counter(ofa_ksqldb).storage is None
    config = {"type": "local", "local_path": str(tmp_path), "mount_point": str(tmp_path / "m")}
    monkeypatch.setenv("STORAGE", json.dumps(config))
    app = Counter(ofa_ksqldb)
    app.storage.write_text("notes/a.txt", "hi")
    assert (tmp_path / "m" / "notes" / "a.txt").read_text() == "hi"
    monkeypatch.setenv("STORAGE", json.dumps({"type": "local", "local_path": "/x"}))
    with pytest.raises(ConfigurationError, match="mount_point"):
        Counter(ofa_ksqldb)


def test_declared_attributes_are_inherited_and_overridable(ofa_ksqldb) -> None:
    class Child(Counter):
        status = EventAttribute(value="booting", tag="Child.Status")
        extra = SampleAttribute(value=1.5, tag="Extra")

    app = Child(ofa_ksqldb)
    assert (app.status.value, app.status.tag) == ("booting", "Child.Status")
    assert app.count.value == 0 and app.extra.value == 1.5
    app.status = "busy"
    assert Asset("DEV-UUID", ofa_ksqldb).status.value == "busy"


def test_run_publishes_available_loop_then_shuts_down(ofa_ksqldb) -> None:
    app = Counter(ofa_ksqldb)
    app.run()
    assert [
        r.json()["VALUE"]
        for r in ofa_ksqldb.broker.records("ofa_assets")
        if r.json()["ID"] == "count"
    ] == [0, 1, 2, 3]
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]
    assert app.shutdown().clean


def test_loop_exception_is_logged_and_leads_to_shutdown(
    ofa_ksqldb, capsys: pytest.CaptureFixture[str]
) -> None:
    app = Failing(ofa_ksqldb)
    app.run()
    assert "RuntimeError: sensor unplugged" in capsys.readouterr().err
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_missing_main_loop_is_reported(ofa_ksqldb, capsys: pytest.CaptureFixture[str]) -> None:
    OpenFactoryApp(ofa_ksqldb).run()
    assert "Method 'main_loop' must be implemented" in capsys.readouterr().err


def test_shutdown_is_idempotent(ofa_ksqldb) -> None:
    app = Counter(ofa_ksqldb)
    first = app.shutdown()
    assert app.shutdown() is first
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "UNAVAILABLE"]  # built, shut down


def test_signal_outside_run_shuts_down_and_exits_zero(ofa_ksqldb) -> None:
    app = Counter(ofa_ksqldb)
    with pytest.raises(SystemExit) as exit_:
        app.signal_handler(signal.SIGTERM, None)
    assert exit_.value.code == 0
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "UNAVAILABLE"]


def test_signal_handlers_installed_in_main_thread(ofa_ksqldb) -> None:
    app = Counter(ofa_ksqldb)
    assert signal.getsignal(signal.SIGTERM) == app.signal_handler
    assert signal.getsignal(signal.SIGINT) == app.signal_handler


def test_app_built_outside_main_thread_works(ofa_ksqldb) -> None:
    before = signal.getsignal(signal.SIGTERM)
    result: list[OpenFactoryApp] = []
    thread = threading.Thread(target=lambda: result.append(Counter(ofa_ksqldb)))
    thread.start()
    thread.join(10)
    (app,) = result
    assert signal.getsignal(signal.SIGTERM) == before
    app.run()
    assert app.status.value == "done"


def test_sigterm_stops_a_blocking_loop(ofa_ksqldb) -> None:
    app = Waiting(ofa_ksqldb)

    def stop() -> None:
        assert app.started.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)  # to the process: only the main thread takes it

    thread = start_background_thread(stop, name="stopper")
    app.run()
    thread.join(10)
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_test_mode_uses_the_embedded_broker_even_with_a_real_client() -> None:
    app = Counter(KSQLDBClient("http://localhost:1"), test_mode=True)
    app.run()
    values = [r.json()["ID"] for r in embedded_broker().records("ofa_assets", "DEV-UUID")]
    assert "count" in values and "avail" in values


def test_production_without_broker_fails_clearly() -> None:
    with pytest.raises(ConfigurationError, match="KAFKA_BROKER"):
        Counter(KSQLDBClient("http://localhost:1"))


class AsyncApp(OpenFactoryApp):
    level = SampleAttribute(value=0.0, tag="Tank.Level")

    @ofa_method(description="Fill the tank")
    async def fill(self, litres: float) -> float:
        await asyncio.sleep(0)
        self.level = self.level.value + litres
        return self.level.value

    async def async_main_loop(self) -> None:
        await asyncio.sleep(0)


def test_async_run_and_async_method(ofa_ksqldb) -> None:
    app = AsyncApp(ofa_ksqldb)
    outcomes = []
    app.add_command_observer(outcomes.append)
    Asset("DEV-UUID", ofa_ksqldb).fill(sender_uuid="ME", litres="2.5")
    assert outcomes[0].result == 2.5
    asyncio.run(app.async_run())
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_async_run_stops_on_sigterm(ofa_ksqldb) -> None:
    class Forever(OpenFactoryApp):
        async def async_main_loop(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.Event().wait()

    asyncio.run(Forever(ofa_ksqldb).async_run())
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_welcome_banner_is_printed_by_run_and_can_be_redefined(
    ofa_ksqldb, capsys: pytest.CaptureFixture[str]
) -> None:
    Counter(ofa_ksqldb).run()
    assert "OpenFactory App DEV-UUID" in capsys.readouterr().out

    class Quiet(Counter):
        def welcome_banner(self) -> None:
            print("custom banner")

    Quiet(ofa_ksqldb).run()
    out = capsys.readouterr().out
    assert "custom banner" in out and "OpenFactory App" not in out


def test_shutdown_report_is_none_until_the_first_shutdown(ofa_ksqldb) -> None:
    app = Counter(ofa_ksqldb)
    assert app.shutdown_report is None
    report = app.shutdown()
    assert app.shutdown_report is report
    with pytest.raises(AttributeError):
        app.shutdown_report = None  # type: ignore[misc]


def test_a_failing_shutdown_step_is_reported_and_the_others_still_run(
    ofa_ksqldb, caplog: pytest.LogCaptureFixture
) -> None:
    class Stubborn(Counter):
        def app_event_loop_stopped(self) -> None:
            raise OSError("spindle still turning")

    app = Stubborn(ofa_ksqldb)
    with caplog.at_level(logging.ERROR):
        report = app.shutdown()
    assert report.steps == ["unavailable", "deregister", "flush", "close"]
    assert report.errors == ["app_event_loop_stopped: OSError: spindle still turning"]
    assert not report.clean
    assert "shutdown step 'app_event_loop_stopped' failed" in caplog.text
    assert avail_values(ofa_ksqldb) == ["UNAVAILABLE", "UNAVAILABLE"]
    assert [
        r.is_tombstone for r in ofa_ksqldb.broker.records("assets_avail_topic", "DEV-UUID")
    ] == [True]
