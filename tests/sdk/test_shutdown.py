"""An app's shutdown, in process: one time budget whatever is down, deregistration without
ksqlDB, what was lost counted and turned into the exit status, signals during the shutdown, and
the signal handlers given back."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openfactory._clock import monotonic
from openfactory.apps import EventAttribute, OpenFactoryApp
from openfactory.apps.environment import shutdown_timeout_from_env
from openfactory.errors import ConfigurationError
from openfactory.testing import AppHarness, FakeBroker, FakeKSQLDB

TABLE_TOPICS = ("assets_types_topic", "assets_avail_topic", "docker_services_topic")
BUDGET = 0.5
MARGIN = 1.5  # a shutdown's own work on a busy 2-core machine, beyond the budget


class Ticker(OpenFactoryApp):
    ticks = EventAttribute(value=0, tag="Ticks")

    def main_loop(self) -> None:
        for n in range(1, 4):
            self.ticks = n
            time.sleep(1)


def deregistered(ksqldb: FakeKSQLDB, uuid: str) -> bool:
    """The app's tombstones are on the three tables' topics and its UNS map record reset."""
    broker = ksqldb.broker
    tombstones = all(
        [r.value for r in broker.records(topic, uuid)] == [None] for topic in TABLE_TOPICS
    )
    uns = broker.records("asset_to_uns_map_topic", uuid)
    return tombstones and len(uns) == 1 and uns[0].json()["uns_id"] is None


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("OPENFACTORY_SHUTDOWN_TIMEOUT", str(BUDGET))
    return BUDGET


# --- one budget ---------------------------------------------------------------------------


def test_the_budget_fits_a_container_runtimes_grace_and_is_configurable() -> None:
    assert shutdown_timeout_from_env({}) == 8.0  # SIGKILL comes 10 s after SIGTERM
    assert shutdown_timeout_from_env({"OPENFACTORY_SHUTDOWN_TIMEOUT": "2.5"}) == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ConfigurationError, match=r"^OPENFACTORY_SHUTDOWN_TIMEOUT must be a"):
            shutdown_timeout_from_env({"OPENFACTORY_SHUTDOWN_TIMEOUT": bad})


def test_a_bad_budget_fails_the_app_construction(
    monkeypatch: pytest.MonkeyPatch, ofa_ksqldb: FakeKSQLDB
) -> None:
    monkeypatch.setenv("OPENFACTORY_SHUTDOWN_TIMEOUT", "ten")
    with pytest.raises(ConfigurationError, match="OPENFACTORY_SHUTDOWN_TIMEOUT"):
        Ticker(ofa_ksqldb)


def test_a_frozen_broker_cannot_stretch_the_shutdown_past_its_budget(
    budget: float, ofa_ksqldb: FakeKSQLDB, capsys: pytest.CaptureFixture[str]
) -> None:
    app = Ticker(ofa_ksqldb)
    ofa_ksqldb.broker.disconnect()
    for n in range(3):
        app.ticks = n
    started = monotonic()
    report = app.shutdown()
    took = monotonic() - started
    assert took < budget + MARGIN, f"shutdown took {took:.1f}s with a {budget}s budget"
    assert report.steps == ["unavailable", "deregister", "app_event_loop_stopped", "flush", "close"]
    # 3 ticks, UNAVAILABLE, 2 references, 3 tombstones and the UNS map record: all held back.
    assert (report.undelivered, report.lost, report.exit_status) == (10, 10, 1)
    assert not report.clean
    assert "shutdown lost 10 record(s): 10 still queued at its end" in capsys.readouterr().err


def test_failed_deliveries_count_as_lost(ofa_ksqldb: FakeKSQLDB) -> None:
    app = Ticker(ofa_ksqldb)
    ofa_ksqldb.broker.fail_next(2, reason="NOT_ENOUGH_REPLICAS")
    app.ticks = 1
    app.ticks = 2
    report = app.shutdown()
    assert (report.failed_deliveries, report.undelivered, report.lost) == (2, 0, 2)


def test_run_exits_non_zero_only_when_records_were_lost(
    budget: float, ofa_ksqldb: FakeKSQLDB
) -> None:
    class Quick(Ticker):
        def main_loop(self) -> None:
            self.ticks = 1

    Quick(ofa_ksqldb).run()  # clean: returns

    class Losing(Ticker):
        def main_loop(self) -> None:
            ofa_ksqldb.broker.disconnect()
            self.ticks = 1

    with pytest.raises(SystemExit) as exit_:
        Losing(ofa_ksqldb).run()
    assert exit_.value.code == 1


def test_a_signal_outside_run_exits_with_the_shutdown_status(
    budget: float, ofa_ksqldb: FakeKSQLDB
) -> None:
    app = Ticker(ofa_ksqldb)
    ofa_ksqldb.broker.disconnect()
    with pytest.raises(SystemExit) as exit_:
        app.signal_handler(signal.SIGTERM, None)
    assert exit_.value.code == 1
    with pytest.raises(SystemExit) as again:  # after the shutdown: its status again
        app.signal_handler(signal.SIGTERM, None)
    assert again.value.code == 1


# --- deregistration without ksqlDB --------------------------------------------------------


def test_ksqldb_down_at_shutdown_still_deregisters(ofa_ksqldb: FakeKSQLDB) -> None:
    app = Ticker(ofa_ksqldb)
    ofa_ksqldb.take_down()
    report = app.shutdown()
    assert report.clean, report
    assert deregistered(ofa_ksqldb, "DEV-UUID")


class HangingKSQLDB(FakeKSQLDB):
    """A fake ksqlDB that, once ``hang()`` is called, accepts every request and never answers."""

    def __init__(self) -> None:
        super().__init__(FakeBroker())
        self.answering = threading.Event()
        self.answering.set()
        self.unanswered = 0

    def hang(self) -> None:
        self.answering.clear()

    def get_kafka_topic(self, name: str) -> str:
        self._wait()
        return super().get_kafka_topic(name)

    def pull_query(self, sql: str) -> Any:
        self._wait()
        return super().pull_query(sql)

    def _wait(self) -> None:
        if not self.answering.is_set():
            self.unanswered += 1
            self.answering.wait()


def test_a_hanging_ksqldb_cannot_stretch_the_shutdown(budget: float) -> None:
    ksqldb = HangingKSQLDB()
    app = Ticker(ksqldb)
    ksqldb.hang()
    reports: list[Any] = []
    shutting = threading.Thread(target=lambda: reports.append(app.shutdown()), daemon=True)
    shutting.start()
    shutting.join(budget + MARGIN)
    ksqldb.answering.set()  # a shutdown that asked it would now go on: let the thread end
    assert reports, "the shutdown waited for a ksqlDB that never answers"
    assert reports[0].clean and ksqldb.unanswered == 0
    assert deregistered(ksqldb, "DEV-UUID")


def test_a_table_ksqldb_does_not_know_is_reported_not_fatal(
    ofa_ksqldb: FakeKSQLDB, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    known = ofa_ksqldb.get_kafka_topic

    def without_assets_avail(name: str) -> str:
        if name.upper() == "ASSETS_AVAIL":
            raise ConfigurationError("no assets_avail on this (0.5.3) cluster")
        return known(name)

    monkeypatch.setattr(ofa_ksqldb, "get_kafka_topic", without_assets_avail)
    app = Ticker(ofa_ksqldb)
    assert "no topic for assets_avail" in capsys.readouterr().err
    report = app.shutdown()
    assert report.errors == [
        "deregister: LookupError: no topic for assets_avail: ksqlDB did not name it when the "
        "app was built, so nothing was sent there"
    ]
    assert report.unsent == 1 and report.exit_status == 1


# --- signals during the shutdown ----------------------------------------------------------


class Signalled(Ticker):
    """Its ``app_event_loop_stopped`` has the test's harness send more signals."""

    harness: AppHarness
    extra: tuple[int, ...] = ()
    _hook_finished = False

    def app_event_loop_stopped(self) -> None:
        for signum in self.extra:
            self.harness.signals.send(self, signum)
        self._hook_finished = True


@pytest.fixture
def harness() -> Iterator[AppHarness]:
    with AppHarness() as world:
        yield world


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_every_stop_signal_deregisters(harness: AppHarness, signum: int) -> None:
    app = harness.build(Ticker, "TICKER")
    result = harness.run(app, turns=1, signum=signum)
    assert result.clean and result.exit_code == 0
    assert harness.recorder.values("avail")[-2:] == ["AVAILABLE", "UNAVAILABLE"]
    assert deregistered(harness.ksqldb, "TICKER")


def test_a_second_signal_is_ignored_and_the_shutdown_completes(
    harness: AppHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    app = harness.build(Signalled, "TICKER")
    app.harness, app.extra = harness, (signal.SIGTERM,)
    result = harness.run(app, turns=1)
    assert result.clean and app._hook_finished
    assert harness.signals.forced_exits == []
    assert "received SIGTERM while stopping: ignored" in capsys.readouterr().err


def test_a_third_signal_forces_the_exit(harness: AppHarness) -> None:
    app = harness.build(Signalled, "TICKER")
    app.harness, app.extra = harness, (signal.SIGINT, signal.SIGTERM)
    result = harness.run(app, turns=1)
    assert harness.signals.forced_exits == [128 + signal.SIGTERM]
    assert result.exit_code == 128 + signal.SIGTERM
    assert not app._hook_finished


# --- signal handlers given back -----------------------------------------------------------


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def test_the_handlers_are_given_back_after_the_shutdown(ofa_ksqldb: FakeKSQLDB) -> None:
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    app = Ticker(ofa_ksqldb)
    assert all(signal.getsignal(s) == app.signal_handler for s in STOP_SIGNALS)
    app.shutdown()
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before


def test_handlers_of_apps_built_one_after_another_are_given_back_in_any_order(
    ofa_ksqldb: FakeKSQLDB,
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    first, second = Ticker(ofa_ksqldb), Ticker(ofa_ksqldb)
    second.shutdown()
    assert signal.getsignal(signal.SIGTERM) == first.signal_handler  # first still runs
    first.shutdown()
    assert signal.getsignal(signal.SIGTERM) == before

    third, fourth = Ticker(ofa_ksqldb), Ticker(ofa_ksqldb)
    third.shutdown()
    assert signal.getsignal(signal.SIGTERM) == fourth.signal_handler
    fourth.shutdown()
    assert signal.getsignal(signal.SIGTERM) == before  # not the handler of third, shut down
