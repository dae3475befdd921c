"""Reference section 3.1: ``OpenFactoryApp``, its construction, standard attributes, instance
attributes, lifecycle methods and test mode, with the section 10 choices and the section 11
defects not reproduced (items 6, 12, 13, 14, 18)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import socket
import time
from typing import Any

import pytest

from openfactory import __version__
from openfactory._version import OPENFACTORY_LICENSE
from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset, AssetAttribute
from openfactory.exceptions import OFAException
from openfactory.kafka import AssetProducer
from openfactory.testing import AppHarness, FakeKSQLDB, embedded_broker


class Oven(OpenFactoryApp):
    temperature = SampleAttribute(value=20.0, tag="Oven.Temperature")
    state = EventAttribute(value="cold", tag="Oven.State")

    @ofa_method()
    def heat(self, target: float) -> None:
        """Heat to target."""
        self.temperature = target

    def main_loop(self) -> None:
        self.state = "baking"


def avail(recorder: Any, uuid: str) -> list[str]:
    return recorder.values("avail", asset=uuid)


# construction -----------------------------------------------------------------------------
def test_five_positional_or_keyword_parameters_in_order() -> None:
    parameters = list(inspect.signature(OpenFactoryApp).parameters.values())[:5]
    assert [(p.name, p.default) for p in parameters] == [
        ("ksqlClient", inspect.Parameter.empty),
        ("bootstrap_servers", None),
        ("asset_router_url", None),
        ("loglevel", "INFO"),
        ("test_mode", False),
    ]
    assert {p.kind for p in parameters} == {inspect.Parameter.POSITIONAL_OR_KEYWORD}


def test_the_uuid_and_the_replica_suffix(ofa_app: AppHarness) -> None:
    assert ofa_app.build(Oven, "OVEN").asset_uuid == "OVEN"
    replica = ofa_app.build(Oven, "my-app", env={"SWARM_REPLICAS": "3", "SWARM_TASK_SLOT": "2"})
    assert replica.asset_uuid == "my-app-2"


def test_the_logger_is_named_after_the_uuid_at_the_given_level(ofa_ksqldb: FakeKSQLDB) -> None:
    oven = Oven(ofa_ksqldb, loglevel="DEBUG")
    assert oven.logger.name == "DEV-UUID" and oven.logger.level == logging.DEBUG
    assert Oven(ofa_ksqldb, loglevel=logging.WARNING).logger.level == logging.WARNING


def test_standard_attributes_in_order_values_and_tags(ofa_app: AppHarness) -> None:
    ofa_app.build(Oven, "OVEN")
    events = {
        a.id: (a.value, a.tag)
        for a in ofa_app.recorder.published(asset="OVEN", type="Events")
        if a.id not in ("state",)
    }
    assert events == {
        "avail": ("UNAVAILABLE", "Availability"),
        "application_version": ("latest", "Application.Version"),
        "application_manufacturer": ("OpenFactoryIO", "Application.Manufacturer"),
        "application_license": ("BSD-3-Clause license", "Application.License"),
        "openfactory_manufacturer": ("OpenFactoryIO", "Library.Manufacturer"),
        "openfactory_license": (OPENFACTORY_LICENSE, "Library.License"),
        "openfactory_version": (__version__, "Library.Version"),
    }
    assert OPENFACTORY_LICENSE.startswith("BSD-3-Clause")  # this SDK's license, not upstream's


def test_application_variables_are_read_when_the_app_is_built(ofa_app: AppHarness) -> None:
    # Reference 11 item 6: upstream reads them once, at import.
    env = {"APPLICATION_VERSION": "2.4.1", "APPLICATION_MANUFACTURER": "ACME",
           "APPLICATION_LICENSE": "MIT"}  # fmt: skip
    oven = ofa_app.build(Oven, "OVEN", env=env)
    assert (
        oven.application_version.value,
        oven.application_manufacturer.value,
        oven.application_license.value,
    ) == ("2.4.1", "ACME", "MIT")
    assert ofa_app.build(Oven, "OVEN-2").application_version.value == "latest"


def test_instance_attributes(ofa_ksqldb: FakeKSQLDB) -> None:
    oven = Oven(ofa_ksqldb, bootstrap_servers="kafka:9092", asset_router_url="http://router")
    assert (oven.asset_uuid, oven.ksql, oven.bootstrap_servers, oven.asset_router_url) == (
        "DEV-UUID",
        ofa_ksqldb,
        "kafka:9092",
        "http://router",
    )
    assert oven.storage is None and isinstance(oven.logger, logging.Logger)
    assert oven.avail.value == "UNAVAILABLE" and oven.temperature.value == 20.0
    assert oven.application_license.tag == "Application.License"


def test_the_producer_publishes_on_the_apps_transport(ofa_ksqldb: FakeKSQLDB) -> None:
    oven = Oven(ofa_ksqldb)
    assert isinstance(oven.producer, AssetProducer) and oven.producer is oven.producer
    oven.producer.send_asset_attribute(
        "DEV-UUID", AssetAttribute(id="door", value="open", type="Events", tag="Oven.Door")
    )
    (door,) = [
        v for r in ofa_ksqldb.broker.records("ofa_assets") if (v := r.json())["ID"] == "door"
    ]
    assert (door["ID"], door["VALUE"], door["TAG"]) == ("door", "open", "Oven.Door")
    assert oven.door.value == "open"  # the app's own view follows


def test_assigning_a_method_name_raises(ofa_ksqldb: FakeKSQLDB) -> None:
    class Renamed(OpenFactoryApp):
        @ofa_method(name="go")
        def start(self) -> None:
            pass

    app = Renamed(ofa_ksqldb)
    for name in ("go", "start"):
        with pytest.raises(OFAException, match=f"{name} is an Asset method. It can not be"):
            setattr(app, name, 1)
    assert callable(app.start)


# banner and loops -------------------------------------------------------------------------
def test_the_welcome_banner(ofa_app: AppHarness, capsys: pytest.CaptureFixture[str]) -> None:
    oven = ofa_app.build(Oven, "OVEN", env={"APPLICATION_VERSION": "1.2"})
    oven.welcome_banner()
    lines = capsys.readouterr().out.splitlines()
    assert set(lines[0]) == {"="} and set(lines[-1]) == {"="}
    assert lines[1] == "OpenFactory App OVEN"
    assert set(lines[2]) == {"-"} and set(lines[6]) == {"-"}
    assert lines[3:6] == [
        f"{'Application version:':<29}1.2",
        f"{'Application manufacturer:':<29}OpenFactoryIO",
        f"{'Application license:':<29}BSD-3-Clause license",
    ]
    assert lines[7:10] == [
        f"{'OpenFactory version:':<29}{__version__}",
        f"{'OpenFactory manufacturer:':<29}OpenFactoryIO",
        f"{'OpenFactory license:':<29}{OPENFACTORY_LICENSE}",
    ]
    assert len(lines) == 11


def test_loops_not_implemented(ofa_ksqldb: FakeKSQLDB) -> None:
    app = OpenFactoryApp(ofa_ksqldb)
    with pytest.raises(NotImplementedError, match=r"^Method 'main_loop' must be implemented"):
        app.main_loop()
    with pytest.raises(NotImplementedError, match=r"^Method 'async_main_loop' must be implemented"):
        asyncio.run(app.async_main_loop())


def test_run_banner_available_log_then_the_loop(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    oven = ofa_app.build(Oven, "OVEN")
    oven.run()
    assert "OpenFactory App OVEN" in capsys.readouterr().out
    assert "Starting main loop" in caplog.messages
    ids = [(a.id, a.value) for a in ofa_app.recorder.published(asset="OVEN")]
    assert ids.index(("avail", "AVAILABLE")) < ids.index(("state", "baking"))


def test_async_run_logs_and_publishes_available_like_run(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Reference 11 item 13: 0.6.6 async_run fails before its loop in production.
    class AsyncOven(Oven):
        async def async_main_loop(self) -> None:
            self.state = "baking"

    oven = ofa_app.build(AsyncOven, "OVEN")
    asyncio.run(oven.async_run())
    assert "Starting async main loop" in caplog.messages
    assert avail(ofa_app.recorder, "OVEN") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_a_failing_loop_is_logged_with_traceback_and_stops_the_app(
    ofa_app: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    seen_at_hook: list[str] = []

    class Failing(Oven):
        def main_loop(self) -> None:
            raise RuntimeError("thermocouple lost")

        def app_event_loop_stopped(self) -> None:
            # The documented example closes self.ksql here: deregistration is already done.
            seen_at_hook.extend(a.id for a in ofa_app.recorder.published(asset="OVEN"))
            self.ksql.close()

    oven = ofa_app.build(Failing, "OVEN")
    assert oven.run() is None
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info is not None and "thermocouple lost" in error.getMessage()
    # Reference 11 item 12: deregister first, the hook last, once.
    assert seen_at_hook[-2:] == ["references_below", "references_above"]
    assert oven.shutdown_report is not None and oven.shutdown_report.clean


def test_base_exceptions_propagate_after_the_shutdown(ofa_app: AppHarness) -> None:
    class Interrupted(Oven):
        def main_loop(self) -> None:
            raise KeyboardInterrupt

    oven = ofa_app.build(Interrupted, "OVEN")
    with pytest.raises(KeyboardInterrupt):
        oven.run()
    assert avail(ofa_app.recorder, "OVEN")[-1] == "UNAVAILABLE"


def test_a_loop_that_returns_shuts_the_app_down(ofa_app: AppHarness) -> None:
    # Reference 11 item 14: upstream leaves avail AVAILABLE; this SDK shuts down cleanly.
    oven = ofa_app.build(Oven, "OVEN")
    oven.run()
    assert avail(ofa_app.recorder, "OVEN") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]
    assert oven.shutdown_report is not None and oven.shutdown_report.undelivered == 0


# signals and shutdown ---------------------------------------------------------------------
def test_the_signal_handler_logs_shuts_down_and_exits_zero(
    ofa_ksqldb: FakeKSQLDB, caplog: pytest.LogCaptureFixture
) -> None:
    oven = Oven(ofa_ksqldb)
    assert signal.getsignal(signal.SIGTERM) == oven.signal_handler
    with pytest.raises(SystemExit) as exit_:
        oven.signal_handler(signal.SIGTERM, None)
    assert exit_.value.code == 0
    assert "Received signal SIGTERM, stopping app gracefully ..." in caplog.messages
    assert oven.shutdown_report is not None


def test_a_signal_during_run_ends_the_loop_with_status_zero(ofa_app: AppHarness) -> None:
    class Forever(Oven):
        def main_loop(self) -> None:
            while True:
                time.sleep(1)

    oven = ofa_app.build(Forever, "OVEN")
    result = ofa_app.run(oven, turns=3, signum=signal.SIGINT)
    assert result.exit_code == 0 and result.clean
    assert avail(ofa_app.recorder, "OVEN")[-1] == "UNAVAILABLE"


def test_shutdown_is_public_idempotent_avail_deregister_hook(ofa_app: AppHarness) -> None:
    calls: list[str] = []

    class Hooked(Oven):
        def app_event_loop_stopped(self) -> None:
            calls.append("hook")

    oven = ofa_app.build(Hooked, "OVEN")
    first = oven.shutdown()
    assert oven.shutdown() is first and calls == ["hook"]
    assert first.steps[:3] == ["unavailable", "deregister", "app_event_loop_stopped"]
    assert avail(ofa_app.recorder, "OVEN") == ["UNAVAILABLE", "UNAVAILABLE"]  # built, shut down


# test mode --------------------------------------------------------------------------------
class Untouchable:
    """A ksqlClient any use of which fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"test mode used ksqlClient.{name}")


def test_test_mode_never_touches_the_network_and_behaves_like_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reference 11 item 18. Anything listening here would see a connection attempt.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        monkeypatch.setenv("KAFKA_BROKER", address)
        monkeypatch.setenv("ASSET_ROUTER_URL", f"http://{address}")
        monkeypatch.setenv("APP_UUID", "TEST-MODE-OVEN")
        oven = Oven(Untouchable(), test_mode=True)
        # The environment's broker and router are not read (the given values are kept).
        assert (oven.bootstrap_servers, oven.asset_router_url) == (None, None)
        outcomes = []
        oven.add_command_observer(outcomes.append)
        oven.producer.send_asset_attribute(
            "OTHER", AssetAttribute(id="x", value=1, type="Samples", tag="X")
        )
        Asset("TEST-MODE-OVEN", Untouchable(), test_mode=True).heat(sender_uuid="ME", target="180")
        oven.run()
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert [o.status for o in outcomes] == ["executed"]
    assert oven.temperature.value == 180.0 and oven.state.value == "baking"
    ids = [r.json()["ID"] for r in embedded_broker().records("ofa_assets", "TEST-MODE-OVEN")]
    assert ids[:2] == ["heat", "heat_CMD"] and ids.count("avail") == 3
    assert ids[-2:] == ["references_below", "references_above"]
