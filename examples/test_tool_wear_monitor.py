"""Suite for tool_wear_monitor.py (an app in the platform library's 0.5.3 style)."""

import pytest
from tool_wear_monitor import ToolWearMonitor

from openfactory.kafka import KSQLDBClient


@pytest.fixture
def monitor(ofa_app):
    return ofa_app.build(ToolWearMonitor, "SPINDLE-3", storage=True)


def test_the_hmi_can_call_replace_tool(monitor, ofa_app):
    view = ofa_app.view("SPINDLE-3")
    assert view.methods()["replace_tool"] == {
        "description": "Record that the spindle's tool was replaced",
        "arguments": [
            {"name": "tool_id", "description": "Id of the new tool"},
            {"name": "operator", "description": "Who changed it"},
        ],
    }
    # the platform's clients send a command only through an attribute they list
    assert "replace_tool_CMD" in view.attributes()


def test_wear_grows_every_cycle_and_raises_the_condition(monitor, ofa_app, ofa_recorder):
    result = ofa_app.run(monitor, turns=205)  # SIGTERM during the 205th cycle
    assert result.clean and result.exit_code == 0
    assert ofa_recorder.last("tool_wear").value == 102.0
    assert ofa_recorder.values("tool_condition") == ["Normal", "Warning", "Fault"]
    assert ofa_recorder.values("avail") == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]


def test_a_tool_change_is_logged_and_resets_the_wear(monitor, ofa_app, ofa_recorder):
    monitor.wear = 85.5
    monitor.set_condition("Warning")
    outcome = ofa_app.call(monitor, "replace_tool", tool_id="T-17", operator="ana")
    assert outcome.status == "executed"
    line = monitor.storage.read_text("tool_changes.csv").strip()
    assert line.split(",")[1:] == ["85.5", "T-17", "ana"]
    assert (monitor.tool_id.value, monitor.tool_wear.value) == ("T-17", 0.0)
    assert ofa_recorder.values("tool_condition") == ["Normal", "Warning", "Normal"]


def test_a_call_missing_the_operator_is_refused(monitor, ofa_app):
    outcome = ofa_app.call(monitor, "replace_tool", tool_id="T-18")
    assert outcome.status == "rejected" and "'operator'" in outcome.error
    assert not monitor.storage.exists("tool_changes.csv")


@pytest.mark.ofa_cluster
def test_built_as_deployed_and_stopped_by_sigterm(ofa_app, ofa_recorder):
    # Built exactly as in production; needs a cluster, or `pytest --ofa-fake-broker`.
    monitor = ToolWearMonitor(
        ksqlClient=KSQLDBClient("http://localhost:8088", loglevel="WARNING"),
        bootstrap_servers="localhost:9092",
    )
    assert ofa_app.stop(monitor).exit_code == 0
    ofa_recorder.assert_last("avail", "UNAVAILABLE")
