"""Memory of a long-running in-memory app (DESIGN.md section 5: memory stays flat).

Prints the process's resident memory (RSS, from /proc) at each stage of one run:
  1. after building an app on its own fake broker and ksqlDB;
  2. every 250,000 of 1,000,000 attribute updates (app -> fake broker -> fake ksqlDB);
  3. every 25,000 of 100,000 commands sent to the app as another asset would (and what the
     broker holds: its retention bounds it);
  4. after the app's shutdown and a garbage collection: whether the app and its in-memory
     world were freed (weak references), and RSS again.
RSS rarely drops when objects are freed (the allocator keeps its arenas for reuse): the figure
to read in stage 2 is that it stops growing; in stage 4, that the world is freed.

    .venv/bin/python bench/memory.py [--updates 1000000] [--commands 100000]
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import time
import weakref

from openfactory.apps import OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.testing import FakeBroker, FakeKSQLDB

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


class Counter(OpenFactoryApp):
    count = SampleAttribute(value=0, tag="Counter.Value")

    @ofa_method()
    def add(self, n: int) -> int:
        return n


def stage(name: str, started: float, baseline: float, broker: FakeBroker | None = None) -> None:
    rss = rss_mb()
    held = ""
    if broker is not None:
        records = broker.records("ofa_assets")
        size = sum(len(r.value or b"") for r in records) / 1e6
        held = f"  broker holds {len(records):,} records, {size:.1f} MB of values"
    print(f"{name:<30} RSS {rss:8.1f} MB  ({rss - baseline:+8.1f} MB)  "
          f"{time.perf_counter() - started:6.1f} s{held}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--commands", type=int, default=100_000)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one INFO line per command would be the bench
    os.environ.setdefault("APP_UUID", "BENCH-MEMORY")

    started = time.perf_counter()
    gc.collect()
    baseline = rss_mb()
    stage("before anything", started, baseline)
    ksqldb = FakeKSQLDB(FakeBroker())
    app = Counter(ksqldb)
    stage("app built", started, baseline)

    broker = ksqldb.broker
    step = max(args.updates // 4, 1)
    for n in range(1, args.updates + 1):
        app.count = n
        if n % step == 0:
            stage(f"after {n:,} updates", started, baseline, broker)

    # A command record is about three times the size of an update's: until the broker's
    # retention holds only commands, RSS follows the bytes it holds (printed beside it).
    caller = Asset(app.asset_uuid, ksqldb)
    step = max(args.commands // 4, 1)
    for n in range(1, args.commands + 1):
        caller.add(sender_uuid="BENCH-CALLER", n=str(n))
        if n % step == 0:
            stage(f"after {n:,} commands", started, baseline, broker)
    print(f"  (broker retention: {broker.retention} records a topic)")

    report = app.shutdown()
    caller.close()
    assert report.clean, report
    world = [weakref.ref(o) for o in (app, ksqldb, ksqldb.broker, caller)]
    del app, ksqldb, caller, broker
    gc.collect()
    stage("after shutdown + gc", started, baseline)
    alive = [type(ref()).__name__ for ref in world if ref() is not None]
    print(f"  app and in-memory world freed: {not alive}" + (f" (alive: {alive})" * bool(alive)))


if __name__ == "__main__":
    main()
