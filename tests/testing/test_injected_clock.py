"""The SDK reads time through ``openfactory._clock``: stamps follow a virtual clock, waits don't."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from openfactory import _clock
from openfactory.apps import OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.kafka import KSQLDBClient
from openfactory.testing import AppHarness, VirtualClock
from openfactory.testing.memory import FakeBroker
from openfactory.transport import Record, format_timestamp

HOURS = 5 * 3600


class Tank(OpenFactoryApp):
    level = SampleAttribute(value=0, tag="Level")

    @ofa_method(description="Fill the tank")
    def fill(self, litres: int) -> None:
        self.level = litres


# stamps follow the virtual clock ----------------------------------------------------------
def test_every_sdk_stamp_follows_the_virtual_clock() -> None:
    with (
        AppHarness(clock_start="2030-06-01T08:00:00Z") as harness,
        harness.clock_running() as clock,
    ):
        app = harness.build(Tank, "TANK")
        clock.advance(90.5)
        harness.call(app, "fill", litres=7)
        stamp, epoch_ms = "2030-06-01T08:01:30.500Z", 1_906_531_290_500
        assert datetime(2030, 6, 1, 8, 1, 30, 500_000, UTC).timestamp() * 1000 == epoch_ms
        level = harness.recorder.last("level")
        assert (level.value, level.timestamp) == (7, stamp)
        envelope = json.loads(harness.recorder.commands_for("fill")[-1].value)
        assert envelope["header"]["timestamp"] == stamp
        records = harness.broker.records(harness.ksqldb.get_kafka_topic("ASSETS_STREAM"), "TANK")
        assert records[-1].timestamp_ms == epoch_ms
        assert _clock.now() == clock.now() == datetime(2030, 6, 1, 8, 1, 30, 500_000, UTC)


def test_the_wall_clock_is_real_again_after_the_virtual_clock() -> None:
    with VirtualClock("2001-01-01T00:00:00Z"):
        assert format_timestamp() == "2001-01-01T00:00:00.000Z"
    before = datetime.now(UTC)
    assert before <= _clock.now() <= datetime.now(UTC)


def test_a_bare_freezegun_freeze_does_not_reach_the_sdk() -> None:
    from freezegun import freeze_time

    before = format_timestamp(datetime.now(UTC))
    with freeze_time("2001-01-01"):
        assert datetime.now(UTC).year == 2001  # the app's code is frozen ...
        stamp = format_timestamp()  # ... the SDK's clock only follows a VirtualClock
    assert before <= stamp <= format_timestamp(datetime.now(UTC))


def test_wall_clock_sources_are_swapped_and_restored_explicitly() -> None:
    with _clock.use_wall_clock(lambda: 1_500_000_000_123_456_789):
        assert format_timestamp() == "2017-07-14T02:40:00.123Z"
        assert _clock.now() == datetime(2017, 7, 14, 2, 40, 0, 123_456, UTC)
        previous = _clock.set_wall_clock(None)
        assert previous() == 1_500_000_000_123_456_789
        assert _clock.now().year >= 2026  # None installs the real clock
        _clock.set_wall_clock(previous)
    assert _clock.time_ns() > 1_700_000_000_000_000_000
    with pytest.raises(TypeError, match="callable returning epoch nanoseconds"):
        _clock.set_wall_clock(12345)  # type: ignore[arg-type]


def test_the_sdk_clock_refuses_to_capture_a_frozen_clock() -> None:
    from freezegun import freeze_time

    spec = importlib.util.spec_from_file_location("openfactory._clock_copy", _clock.__file__)
    assert spec is not None and spec.loader is not None
    with freeze_time("2001-01-01"), pytest.raises(ImportError, match="before freezing time"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


# waits stay real ---------------------------------------------------------------------------
def test_the_sdk_monotonic_clock_and_sleep_stay_real_under_virtual_hours() -> None:
    real_start = _clock.monotonic()
    with VirtualClock() as clock:
        app_start = time.monotonic()
        clock.advance(HOURS)
        _clock.sleep(0.001)
        assert time.monotonic() - app_start == HOURS  # what the app's code reads jumped
        assert _clock.monotonic() - real_start < 60  # what the SDK's deadlines read did not
        assert clock.turns == 0  # and the SDK's own pause was no turn of the app's loop


def test_a_flush_times_out_on_the_real_clock_while_virtual_time_stands_still() -> None:
    # Were flush's deadline on the (frozen) virtual clock, it would never pass: flush would hang.
    broker = FakeBroker()
    delivering, go = threading.Event(), threading.Event()

    def slow_subscriber(record: Record) -> None:
        delivering.set()
        go.wait(10)

    broker.subscribe("topic", None, slow_subscriber)
    left: list[int] = []
    with VirtualClock():
        publisher = threading.Thread(target=broker.produce, args=("topic", "k", b"1"))
        publisher.start()
        try:
            assert delivering.wait(5)
            broker.produce("topic", "k", b"2")  # queued behind the delivery under way
            flusher = threading.Thread(
                target=_deep, args=(lambda: left.append(broker.flush(0.05)),)
            )
            flusher.start()
            flusher.join(5)
            assert not flusher.is_alive(), "flush(timeout=0.05) did not return in 5 s"
        finally:
            go.set()
            publisher.join(5)
    assert left == [1]
    assert [r.value for r in broker.records("topic")] == [b"1", b"2"]


def _deep(call: Callable[[], None], depth: int = 8) -> None:
    # As deep as SDK code runs in an app: freezegun gives real time to a caller within a few
    # frames of threading's own code, which would hide a deadline read on the virtual clock.
    if depth:
        _deep(call, depth - 1)
    else:
        call()


def test_ksqldb_retry_backoff_waits_really_and_is_no_turn_of_the_app() -> None:
    answers = iter([503, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        body = {"KsqlServerInfo": {}} if status == 200 else {"error_code": 50300, "message": "!"}
        return httpx.Response(status, json=body)

    with VirtualClock() as clock:
        # Built inside the clock: a client that took time.sleep here would take the virtual one.
        client = KSQLDBClient(
            "http://ksqldb.test:8088", transport=httpx.MockTransport(answer), backoff=0.01
        )
        assert client.info() == {"KsqlServerInfo": {}}
        assert (clock.turns, clock.elapsed) == (0, 0)
        client.close()


def test_wait_until_is_not_cut_short_by_virtual_hours() -> None:
    with AppHarness() as harness, harness.clock_running() as clock:
        app = harness.build(Tank, "TANK")
        view = harness.view("TANK")
        waiting = threading.Event()

        def reached(current: object, wanted: object) -> bool:
            if not waiting.is_set():  # first check, deadline already taken: hours pass
                clock.advance(HOURS)
                waiting.set()
                return False
            return current == wanted

        def fill() -> None:
            waiting.wait(5)
            app.level = 42  # the real condition, well within the real timeout

        filler = threading.Thread(target=fill)
        filler.start()
        try:
            assert view.wait_until("level", 42, comparison=reached, timeout=30)
        finally:
            filler.join(5)
