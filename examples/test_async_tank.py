"""Suite for async_tank.py: async methods and an async main loop under the virtual clock."""

import signal

import pytest
from async_tank import TankApp
from hypothesis import given, settings

from openfactory.testing import AppHarness
from openfactory.testing.strategies import method_arguments


@pytest.fixture
def tank(ofa_app):
    return ofa_app.build(TankApp, "TANK-1")


def test_fill_runs_the_async_method(tank, ofa_app, ofa_recorder):
    with ofa_app.clock_running() as clock:
        outcome = ofa_app.call(tank, "fill", litres="50")
        assert clock.elapsed == 5  # the pump's asyncio.sleep took virtual time
    assert outcome.result == 150.0
    assert ofa_recorder.values("valve") == ["closed", "open", "closed"]


def test_bad_fill_is_reported_not_fatal(tank, ofa_app, ofa_recorder):
    assert ofa_app.call(tank, "fill", litres="-3").status == "failed"
    assert ofa_app.call(tank, "fill", litres="lots").status == "rejected"
    assert len(ofa_recorder.errors) == 2
    assert ofa_app.call(tank, "empty").status == "executed"
    ofa_recorder.assert_last("level", 0.0)


def test_drains_half_a_litre_per_second_until_sigint(tank, ofa_app, ofa_recorder):
    result = ofa_app.run(tank, at=3600, signum=signal.SIGINT)
    assert result.clean and result.signals[0].name == "SIGINT"
    ofa_recorder.assert_last("level", 0.0)
    assert ofa_recorder.values("level")[:3] == [100.0, 99.5, 99.0]
    ofa_recorder.assert_last("avail", "UNAVAILABLE")


@given(arguments=method_arguments(TankApp.fill))
@settings(max_examples=40, deadline=None)
def test_fill_never_overflows(arguments):
    with AppHarness() as world, world.clock_running():
        tank = world.build(TankApp, "TANK-P")
        outcome = world.call(tank, "fill", **arguments)
        assert outcome.status in {"executed", "failed"}
        assert tank.level.value <= TankApp.capacity
