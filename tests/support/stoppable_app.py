"""An app run as a process of its own by ``tests/sdk/test_stop_signals.py``.

``python stoppable_app.py sync|async``: runs ``run()`` or ``async_run()`` on an in-memory
broker of its own and prints what it does, one word a line: ``running`` once in its main
loop, ``stopping`` and ``stopped`` around its ``app_event_loop_stopped()``, which takes
``HOOK_SECONDS`` (real time) so that signals can be sent during the shutdown; last, what the
broker holds (``avail=...`` from ``run()`` on, and the number of deregistration tombstones).
``LOSE_RECORDS=1``: the broker is frozen once the loop runs, and the app publishes what can then
not be delivered.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from openfactory.apps import OpenFactoryApp
from openfactory.assets import AssetAttribute
from openfactory.testing.memory import FakeKSQLDB

HOOK_SECONDS = float(os.environ.get("HOOK_SECONDS", "0"))
LOSE_RECORDS = os.environ.get("LOSE_RECORDS") == "1"
TABLE_TOPICS = ("assets_types_topic", "assets_avail_topic", "docker_services_topic")


def say(text: str) -> None:
    print(text, flush=True)


class Stoppable(OpenFactoryApp):
    def main_loop(self) -> None:
        self._ready()
        while True:
            time.sleep(0.05)

    async def async_main_loop(self) -> None:
        self._ready()
        while True:
            await asyncio.sleep(0.05)

    def _ready(self) -> None:
        if LOSE_RECORDS:
            ksqldb.broker.disconnect()
            for n in range(5):
                self.add_attribute("note", AssetAttribute(n, "Events", "Note"))
        say("running")

    def app_event_loop_stopped(self) -> None:
        say("stopping")
        end = time.monotonic() + HOOK_SECONDS
        while time.monotonic() < end:
            time.sleep(0.01)  # signal handlers run between these
        say("stopped")


ksqldb = FakeKSQLDB()
app = Stoppable(ksqldb)
try:
    if sys.argv[1] == "async":
        asyncio.run(app.async_run())
    else:
        app.run()
finally:
    records = ksqldb.broker.records("ofa_assets", app.asset_uuid)
    avail = [r.json()["VALUE"] for r in records if r.json()["ID"] == "avail"]
    avail = avail[avail.index("AVAILABLE") :] if "AVAILABLE" in avail else avail  # from run()
    tombstones = sum(
        1 for topic in TABLE_TOPICS for r in ksqldb.broker.records(topic) if r.value is None
    )
    say(f"avail={','.join(avail)} tombstones={tombstones}")
