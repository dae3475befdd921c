"""Fault injection on the fake broker and fake ksqlDB, and how the SDK behaves under it:
errors reported with the record they concern, nothing lost silently, nothing retried forever."""

from __future__ import annotations

import logging
import time

import pytest

from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute
from openfactory.assets import Asset, AssetAttribute
from openfactory.errors import KSQLDBError
from openfactory.testing import AppHarness, FakeBroker, FakeKSQLDB


class Meter(OpenFactoryApp):
    reading = SampleAttribute(value=0.0, tag="Meter.Reading")
    mode = EventAttribute(value="auto", tag="Meter.Mode")

    def main_loop(self) -> None:
        for value in range(1, 6):
            self.reading = float(value)
            time.sleep(1)


@pytest.fixture
def harness() -> AppHarness:
    with AppHarness() as world:
        yield world


def test_failed_deliveries_are_logged_counted_and_reported_at_shutdown(
    harness: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    meter = harness.build(Meter, "METER-1")
    harness.broker.fail_next(2, reason="NOT_ENOUGH_REPLICAS")
    with caplog.at_level(logging.ERROR):
        result = harness.run(meter)
    assert "asset 'METER-1' attribute 'avail'" in caplog.text
    assert "asset 'METER-1' attribute 'reading'" in caplog.text
    assert "NOT_ENOUGH_REPLICAS" in caplog.text
    assert result.shutdown is not None and result.shutdown.failed_deliveries == 2
    assert not result.clean
    # the records that failed are not on the broker; every other one is, in order
    assert harness.recorder.values("reading") == [0.0, 2.0, 3.0, 4.0, 5.0]


def test_delayed_records_are_reported_undelivered_then_delivered_in_order(
    harness: AppHarness,
) -> None:
    meter = harness.build(Meter, "METER-1")
    harness.broker.delay_next(1)
    meter.mode = "manual"
    meter.mode = "off"  # waits behind the delayed record: the key stays in order
    assert harness.recorder.values("mode") == ["auto"]
    report = meter.shutdown()
    assert report.undelivered > 0 and not report.clean
    harness.broker.release()
    assert harness.recorder.values("mode") == ["auto", "manual", "off"]
    assert harness.recorder.values("avail") == ["UNAVAILABLE", "UNAVAILABLE"]  # built, stopped


def test_a_broker_outage_loses_nothing(harness: AppHarness) -> None:
    meter = harness.build(Meter, "METER-1")
    harness.broker.disconnect()
    for value in (10.0, 11.0, 12.0):
        meter.reading = value
    assert harness.broker.pending() == 3
    assert meter.transport.flush(timeout=0).undelivered == 3
    harness.broker.reconnect()
    assert meter.transport.flush().ok
    assert harness.recorder.values("reading") == [0.0, 10.0, 11.0, 12.0]


def test_ksqldb_outage_is_a_clear_error_and_recovers() -> None:
    ksqldb = FakeKSQLDB(FakeBroker())
    ksqldb.take_down()
    with pytest.raises(KSQLDBError, match="cannot reach ksqlDB") as error:
        Asset("METER-9", ksqldb)
    assert error.value.error_code == 50000
    ksqldb.bring_back()
    view = Asset("METER-9", ksqldb)
    view.add_attribute("mode", AssetAttribute("auto", "Events", "Mode"))
    ksqldb.take_down()
    view.mode = "manual"  # publishing needs no ksqlDB: the topic was resolved and cached
    assert view.wait_until("mode", "manual", timeout=1)
    with pytest.raises(KSQLDBError):
        view.wait_until("mode", "manual", timeout=1, use_ksqlDB=True)
    ksqldb.bring_back()
    assert view.wait_until("mode", "manual", timeout=1, use_ksqlDB=True)


def test_app_state_load_survives_a_query_failure(
    harness: AppHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # ksqlDB answers topic lookups but rejects the state query: the app starts anyway
    harness.ksqldb.fail_next_queries(1, "Pull queries are disabled", 40002)
    with caplog.at_level(logging.WARNING):
        meter = harness.build(Meter, "METER-2")
    assert "could not load state from ksqlDB: ksqlDB error 40002: Pull queries" in caplog.text
    assert meter.reading.value == 0.0
