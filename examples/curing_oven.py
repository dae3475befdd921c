"""A curing supervisor written for the platform's library 0.6.6, running unchanged here.

An MES calls ``start_batch``; for each batch the app waits until the oven (the asset named by
``OVEN_UUID``) is at the curing temperature, lets it cure, and writes the batch report to its
``data`` storage (``STORAGE`` holding named backends, one named ``data``). ``retire`` finishes
the current batch and shuts the app down.
"""

import json
import os
import queue
import time
from typing import Annotated

from openfactory.apps import EventAttribute, OpenFactoryApp, ofa_method
from openfactory.assets import Asset
from openfactory.kafka import KSQLDBClient


def hot_enough(temperature, setpoint):
    """The oven's temperature reached the setpoint (it reads UNAVAILABLE while offline)."""
    return isinstance(temperature, float | int) and temperature >= setpoint


class CuringOven(OpenFactoryApp):
    batch = EventAttribute(value="none", tag="Batch.Id")
    batch_state = EventAttribute(value="idle", tag="Batch.State")

    cure_seconds = 600

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heat_up_timeout = float(os.getenv("HEAT_UP_TIMEOUT", "1800"))
        self.oven = Asset(
            os.getenv("OVEN_UUID", "OVEN-001"),
            self.ksql,
            self.bootstrap_servers,
            self.asset_router_url,
            self.test_mode,
        )
        self.batches = queue.Queue()
        self.retiring = False

    @ofa_method(description="Cure a batch at a temperature")
    def start_batch(
        self,
        batch_id: Annotated[str, "Id of the batch"],
        setpoint: Annotated[float, "Curing temperature in °C"],
    ):
        self.batches.put((batch_id, setpoint))

    @ofa_method(description="Finish the current batch, then stop the app")
    def retire(self):
        self.retiring = True

    def cure(self, batch_id, setpoint):
        log = self.logger.with_context(batch=batch_id, oven=self.oven.asset_uuid)
        self.batch = batch_id
        self.batch_state = "heating"
        log.info(f"waiting for {setpoint} °C")
        report = {"batch": batch_id, "setpoint": setpoint, "started": time.time()}
        if self.oven.wait_until("temperature", setpoint, hot_enough, timeout=self.heat_up_timeout):
            self.batch_state = "curing"
            time.sleep(self.cure_seconds)
            report["result"] = "cured"
        else:
            log.error(f"the oven did not reach {setpoint} °C in {self.heat_up_timeout:.0f} s")
            report["result"] = "not cured: the oven stayed too cold"
        report["ended"] = time.time()
        with self.storage["data"].open(f"batches/{batch_id}.json", "w") as file:
            json.dump(report, file)
        self.batch_state = report["result"]
        log.info(report["result"])

    def main_loop(self):
        while not (self.retiring and self.batches.empty()):
            try:
                batch_id, setpoint = self.batches.get_nowait()
            except queue.Empty:
                time.sleep(1)
                continue
            self.cure(batch_id, setpoint)
        self.logger.info("retired")
        self.shutdown()

    def app_event_loop_stopped(self):
        self.oven.close()
        self.ksql.close()


if __name__ == "__main__":
    app = CuringOven(
        ksqlClient=KSQLDBClient(os.getenv("KSQLDB_URL", "http://localhost:8088")),
        bootstrap_servers=os.getenv("KAFKA_BROKER", "localhost:9092"),
    )
    app.run()
