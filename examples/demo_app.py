"""The usage example of the OpenFactoryApp documentation, unchanged in substance.

Run it on the embedded in-memory broker with ``ofa-dev run examples/demo_app.py``; on a
cluster, ``KSQLDB_URL`` and ``KAFKA_BROKER`` point it at ksqlDB and Kafka.
"""

import os
import time

from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.kafka import KSQLDBClient


class DemoApp(OpenFactoryApp):
    # Declarative attributes are automatically registered as AssetAttributes
    status = EventAttribute(value="idle", tag="App.Status")
    sample_rate = SampleAttribute(value=42, tag="Sample.Rate")

    @ofa_method(description="Move to a given (x, y) position with speed")
    def move_axis(self, x: float, y: float, speed: int = 100):
        # This method is callable over OpenFactory due to the @ofa_method decorator
        self.logger.info(f"Moving axis to x={x}, y={y} at speed={speed}")

    @ofa_method()
    def stop_axis(self):
        """Stops all motion immediately."""
        self.logger.info("Stopping all axis")

    def main_loop(self):
        # For actual use case, add here your logic of the app
        self.logger.info("I don't do anything useful in this example.")
        counter = 1
        while True:
            self.logger.info(f"Counter: {counter}")
            counter += 1
            time.sleep(2)

    def app_event_loop_stopped(self):
        # Optional as it is already done by the `KSQLDBClient` class
        self.ksql.close()


if __name__ == "__main__":
    # When the Application is deployed on the OpenFactory Cluster, the
    # environment variables KSQLDB_URL and KAFKA_BROKER will be set.
    # The default values can be used for local development.
    app = DemoApp(
        ksqlClient=KSQLDBClient(os.getenv("KSQLDB_URL", "http://localhost:8088")),
        bootstrap_servers=os.getenv("KAFKA_BROKER", "localhost:9092"),
    )
    app.run()
