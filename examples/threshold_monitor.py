"""An app that watches another asset's temperature samples and raises a Condition.

The monitor subscribes to the samples of the asset named by ``SENSOR_UUID`` and publishes
``temperature_alarm`` (a ``Condition``): ``Normal`` below ``warning``, ``Warning`` from it,
``Fault`` from ``fault``. The thresholds can be changed at run time with ``set_thresholds``.
"""

import os
import time

from openfactory.apps import ConditionAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.kafka import KSQLDBClient


class ThresholdMonitor(OpenFactoryApp):
    temperature_alarm = ConditionAttribute(value="Normal", tag="Temperature.Alarm")
    last_temperature = SampleAttribute(value=0.0, tag="Temperature")

    warning = 70.0
    fault = 90.0

    def __init__(self, *args, sensor_uuid: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sensor = Asset(
            sensor_uuid or os.getenv("SENSOR_UUID", "SENSOR-001"),
            self.ksql,
            self.bootstrap_servers,
            test_mode=self.test_mode,
        )
        self.sensor.subscribe_to_samples(self.on_sample)

    def on_sample(self, asset_uuid: str, record: dict) -> None:
        if record["ID"] != "temperature":
            return
        value = float(record["VALUE"])
        self.last_temperature = value
        level = "Fault" if value >= self.fault else "Warning" if value >= self.warning else "Normal"
        if level != self.temperature_alarm.value:
            self.logger.warning(f"{asset_uuid} temperature {value} -> {level}")
            self.temperature_alarm = level

    @ofa_method(args={"warning": "Warning threshold in °C", "fault": "Fault threshold in °C"})
    def set_thresholds(self, warning: float, fault: float) -> None:
        """Change the alarm thresholds."""
        if not warning < fault:
            raise ValueError(f"warning ({warning}) must be below fault ({fault})")
        self.warning, self.fault = warning, fault

    def main_loop(self) -> None:
        while True:
            time.sleep(1)

    def app_event_loop_stopped(self) -> None:
        self.sensor.close()


if __name__ == "__main__":
    ThresholdMonitor(
        ksqlClient=KSQLDBClient(os.getenv("KSQLDB_URL", "http://localhost:8088")),
        bootstrap_servers=os.getenv("KAFKA_BROKER", "localhost:9092"),
    ).run()
