"""The virtual clock and the signal simulator, on sync and async apps."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime

import pytest

from openfactory.apps import OpenFactoryApp, SampleAttribute
from openfactory.errors import ConfigurationError
from openfactory.testing import AppHarness, VirtualClock


class Ticker(OpenFactoryApp):
    ticks = SampleAttribute(value=0, tag="Ticks")

    def main_loop(self) -> None:
        while True:
            self.ticks = self.ticks.value + 1
            time.sleep(2)


class AsyncTicker(OpenFactoryApp):
    ticks = SampleAttribute(value=0, tag="Ticks")

    async def async_main_loop(self) -> None:
        while True:
            self.ticks = self.ticks.value + 1
            await asyncio.sleep(2)


def test_sleep_advances_virtual_time_without_blocking() -> None:
    with VirtualClock("2026-05-04T12:00:00Z") as clock:
        started = time.monotonic()
        for _ in range(1000):
            time.sleep(2)
        assert time.monotonic() - started == 2000
        assert clock.turns == 1000
        assert datetime.now(UTC) == datetime(2026, 5, 4, 12, 33, 20, tzinfo=UTC)
        clock.advance(10)
        assert clock.elapsed == 2010
    assert not clock.active


def test_asyncio_sleep_is_virtual_too() -> None:
    async def nap() -> float:
        begin = time.time()
        await asyncio.sleep(3600)
        return time.time() - begin

    with VirtualClock():
        assert asyncio.run(nap()) == 3600


def test_clock_misuse_is_explained() -> None:
    clock = VirtualClock()
    with pytest.raises(ConfigurationError, match="not running"):
        clock.now()
    with pytest.raises(ConfigurationError, match="not an ISO 8601"):
        VirtualClock("yesterday")
    with clock, pytest.raises(ConfigurationError, match="backwards"):
        clock.advance(-1)


@pytest.mark.parametrize("app_class", [Ticker, AsyncTicker])
def test_sigterm_after_n_turns(app_class: type[OpenFactoryApp]) -> None:
    with AppHarness() as harness:
        app = harness.build(app_class, "TICKER")
        result = harness.run(app, turns=500)
        assert result.exit_code == 0 and result.clean
        assert result.turns == 500 and result.virtual_seconds == 1000
        assert [d.name for d in result.signals] == ["SIGTERM"]
        assert harness.recorder.values("ticks")[-1] == 500
        assert harness.recorder.values("avail") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]
        assert result.shutdown is not None
        assert result.shutdown.steps[:2] == ["unavailable", "deregister"]
        assert result.records_flushed


def test_sigint_at_a_virtual_time_and_timestamps_follow_it() -> None:
    with AppHarness(clock_start="2026-01-01T00:00:00Z") as harness:
        app = harness.build(Ticker, "TICKER")
        result = harness.run(app, at=60, signum=signal.SIGINT)
        assert result.signals[0].name == "SIGINT"
        assert result.virtual_seconds == 60
        last_tick = harness.recorder.last("ticks")
        assert last_tick.value == 30
        assert last_tick.timestamp == "2026-01-01T00:00:58.000Z"


def test_signal_to_an_app_that_is_not_running() -> None:
    with AppHarness() as harness:
        app = harness.build(Ticker, "TICKER")
        result = harness.stop(app)
        assert result.exit_code == 0
        assert harness.recorder.values("avail") == ["UNAVAILABLE", "UNAVAILABLE"]


def test_only_sigint_and_sigterm_are_simulated() -> None:
    with AppHarness() as harness:
        app = harness.build(Ticker, "TICKER")
        with pytest.raises(ConfigurationError, match=r"SIGINT, signal\.SIGTERM or signal\.SIGHUP"):
            harness.run(app, turns=1, signum=signal.SIGUSR1)
        with pytest.raises(ConfigurationError, match="turns >= 1"):
            harness.run(app, turns=0)


def test_ten_thousand_two_second_turns_run_fast() -> None:
    with AppHarness() as harness:
        app = harness.build(Ticker, "TICKER")
        result = harness.run(app, turns=10_000)
        assert result.virtual_seconds == 20_000
        assert len(harness.recorder.values("ticks")) == 10_001


def test_default_start_is_now_so_timestamps_never_run_backwards() -> None:
    with AppHarness() as harness:
        app = harness.build(Ticker, "TICKER")
        harness.run(app, turns=3)
        stamps = [a.timestamp for a in harness.recorder.published()]
        assert stamps == sorted(stamps)
