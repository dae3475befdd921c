"""Suite for threshold_monitor.py: a sensor's samples drive the monitor's Condition."""

import pytest
from threshold_monitor import ThresholdMonitor

from openfactory.assets import AssetAttribute


@pytest.fixture
def sensor(ofa_app):
    return ofa_app.view("SENSOR-7")


@pytest.fixture
def monitor(ofa_app, sensor):
    return ofa_app.build(ThresholdMonitor, "MONITOR-1", env={"SENSOR_UUID": "SENSOR-7"})


def publish_temperature(sensor, value):
    sensor.add_attribute("temperature", AssetAttribute(value, "Samples", "Temperature"))


def test_alarm_follows_the_samples(monitor, sensor, ofa_recorder):
    for value in (20.0, 75.0, 95.0, 60.0):
        publish_temperature(sensor, value)
    assert ofa_recorder.values("temperature_alarm", asset="MONITOR-1") == [
        "Normal",
        "Warning",
        "Fault",
        "Normal",
    ]
    assert monitor.last_temperature.value == 60.0


def test_other_samples_are_ignored(monitor, sensor, ofa_recorder):
    sensor.add_attribute("humidity", AssetAttribute(99.0, "Samples", "Humidity"))
    assert ofa_recorder.values("temperature_alarm") == ["Normal"]


def test_thresholds_can_be_changed_by_command(monitor, sensor, ofa_app, ofa_recorder):
    ofa_app.call(monitor, "set_thresholds", warning="30", fault="40")
    publish_temperature(sensor, 35.0)
    ofa_recorder.assert_last("temperature_alarm", "Warning")


def test_inconsistent_thresholds_are_refused(monitor, ofa_app):
    outcome = ofa_app.call(monitor, "set_thresholds", warning="50", fault="40")
    assert outcome.status == "failed" and "must be below" in outcome.error
    assert (monitor.warning, monitor.fault) == (70.0, 90.0)


def test_conditions_are_visible_to_other_apps(monitor, sensor, ofa_app):
    publish_temperature(sensor, 99.0)
    view = ofa_app.view("MONITOR-1")
    assert view.conditions() == [
        {"ID": "temperature_alarm", "VALUE": "Fault", "TAG": "Temperature.Alarm"}
    ]
    assert view.wait_until("temperature_alarm", "Fault", timeout=1, use_ksqlDB=True)


def test_shutdown_releases_the_sensor_subscription(monitor, sensor, ofa_app, ofa_recorder):
    ofa_app.run(monitor, turns=5)
    publish_temperature(sensor, 99.0)
    assert "Fault" not in ofa_recorder.values("temperature_alarm")
