"""An asyncio app: a tank that drains on its own and is filled through ``async def`` methods."""

import asyncio
import os

from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.kafka import KSQLDBClient


class TankApp(OpenFactoryApp):
    level = SampleAttribute(value=100.0, tag="Tank.Level")
    valve = EventAttribute(value="closed", tag="Tank.Valve")

    drain_per_second = 0.5
    capacity = 200.0

    @ofa_method(description="Open the inlet valve and add litres")
    async def fill(self, litres: float) -> float:
        if litres <= 0:
            raise ValueError(f"litres must be positive, got {litres}")
        self.valve = "open"
        await asyncio.sleep(litres / 10)  # the pump moves 10 l/s
        self.level = min(self.capacity, self.level.value + litres)
        self.valve = "closed"
        return self.level.value

    @ofa_method()
    async def empty(self) -> None:
        """Drain the tank completely."""
        self.level = 0.0

    async def async_main_loop(self) -> None:
        while True:
            await asyncio.sleep(1)
            if self.level.value > 0:
                self.level = max(0.0, self.level.value - self.drain_per_second)


if __name__ == "__main__":
    app = TankApp(
        ksqlClient=KSQLDBClient(os.getenv("KSQLDB_URL", "http://localhost:8088")),
        bootstrap_servers=os.getenv("KAFKA_BROKER", "localhost:9092"),
    )
    asyncio.run(app.async_run())
