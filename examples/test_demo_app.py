"""The suite an author writes for the documented demo app (see demo_app.py)."""

import pytest
from demo_app import DemoApp

from openfactory.kafka import KSQLDBClient


@pytest.fixture
def app(ofa_app):
    return ofa_app.build(DemoApp, "DEMO-APP")


def test_publishes_its_attributes(app, ofa_recorder):
    ofa_recorder.assert_last("status", "idle")
    assert ofa_recorder.last("sample_rate").value == 42
    assert set(app.methods()) == {"move_axis", "stop_axis"}


def test_move_axis_converts_its_arguments(app, ofa_app, ofa_recorder):
    ofa_app.call(app, "move_axis", x="1.5", y="2")
    ofa_recorder.assert_executed("move_axis", x=1.5, y=2.0, speed=100)


def test_a_bad_command_is_survived(app, ofa_app, ofa_recorder):
    assert ofa_app.call(app, "move_axis", x="left", y="2").status == "rejected"
    assert ofa_app.call(app, "stop_axis").status == "executed"


def test_sigterm_after_three_turns_shuts_down_cleanly(app, ofa_app, ofa_recorder):
    result = ofa_app.run(app, turns=3)
    assert result.clean and result.virtual_seconds == 6
    assert ofa_recorder.values("avail") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


@pytest.mark.ofa_cluster
def test_production_construction_runs_on_the_fake_broker(ofa_recorder):
    # Built exactly as in production; needs a cluster, or `pytest --ofa-fake-broker`.
    app = DemoApp(KSQLDBClient("http://localhost:8088"), bootstrap_servers="localhost:9092")
    app.shutdown()
    ofa_recorder.assert_last("avail", "UNAVAILABLE")
