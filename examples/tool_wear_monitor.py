"""A tool-wear monitor written for the platform's library 0.5.3, running unchanged here.

Every machining cycle wears the spindle's tool a little; the monitor publishes the wear and a
``Condition`` (``Normal``, ``Warning`` from 80 %, ``Fault`` from 100 %). An operator's HMI calls
``replace_tool`` after a tool change, which is logged to the app's storage (``STORAGE``, one
backend). The app stops on SIGTERM, as deployed apps do.
"""

import os
import time

from openfactory.apps.attributefield import AttributeField, EventAttribute, SampleAttribute
from openfactory.apps.decorators import ofa_method
from openfactory.apps.ofaapp import OpenFactoryApp
from openfactory.kafka import KSQLDBClient

WARNING_WEAR = 80.0
FAULT_WEAR = 100.0


class ToolWearMonitor(OpenFactoryApp):
    tool_id = EventAttribute(value="T-UNKNOWN", tag="Tool.Id")
    tool_wear = SampleAttribute(value=0.0, tag="Tool.Wear")
    tool_condition = AttributeField(value="Normal", type="Condition", tag="Tool.Condition")

    wear_per_cycle = float(os.getenv("WEAR_PER_CYCLE", "0.5"))
    cycle_seconds = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Kept here: on 0.5.3, self.tool_wear reads back the declared default, not the live value.
        self.wear = 0.0
        self.condition = "Normal"

    @ofa_method(
        description="Record that the spindle's tool was replaced",
        param_description={"tool_id": "Id of the new tool", "operator": "Who changed it"},
    )
    def replace_tool(self, tool_id: str, operator: str):
        if self.storage is not None:
            with self.storage.open("tool_changes.csv", "a") as log:
                log.write(f"{time.time():.0f},{self.wear:.1f},{tool_id},{operator}\n")
        self.logger.info(f"{operator} replaced the tool by {tool_id} at {self.wear:.1f} % wear")
        self.tool_id = tool_id
        self.wear = 0.0
        self.tool_wear = self.wear
        self.set_condition("Normal")

    def set_condition(self, condition):
        if condition != self.condition:
            self.condition = condition
            self.tool_condition = condition

    def main_loop(self):
        while True:
            time.sleep(self.cycle_seconds)
            self.wear += self.wear_per_cycle
            self.tool_wear = self.wear
            if self.wear >= FAULT_WEAR:
                self.set_condition("Fault")
            elif self.wear >= WARNING_WEAR:
                self.set_condition("Warning")

    def app_event_loop_stopped(self):
        self.ksql.close()


if __name__ == "__main__":
    app = ToolWearMonitor(
        ksqlClient=KSQLDBClient(
            os.getenv("KSQLDB_URL", "http://localhost:8088"),
            loglevel=os.getenv("KSQLDB_LOG_LEVEL", "WARNING"),
        ),
        bootstrap_servers=os.getenv("KAFKA_BROKER", "localhost:9092"),
    )
    app.run()
