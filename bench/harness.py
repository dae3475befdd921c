"""Benchmark of the in-memory test harness (DESIGN.md section 5).

Prints, from one run:
  1. cost of one app test (build the demo app, send a command, assert on the recorder),
     against a baseline in the same run: building the same app alone;
  2. virtual seconds per wall second for a loop sleeping 2 s a turn (10,000 turns);
  3. attribute records per second through app -> broker -> recorder, against bare
     ``FakeBroker.produce`` of the same encoded records.
Targets: an app test well under 1 ms; 10,000 two-second turns in under 1 s of wall time.

    .venv/bin/python bench/harness.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from demo_app import DemoApp

from openfactory.apps import OpenFactoryApp, SampleAttribute
from openfactory.testing import AppHarness, FakeBroker, Recorder
from openfactory.transport.wire import asset_record, format_timestamp


class Sleeper(OpenFactoryApp):
    counter = SampleAttribute(value=0, tag="Counter")

    def main_loop(self) -> None:
        while True:
            time.sleep(2)


def best_of(repeat: int, run: Callable[[], float]) -> float:
    """Median of ``repeat`` runs (each returns seconds per unit)."""
    return statistics.median(run() for _ in range(repeat))


def per_app_test(iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        with AppHarness() as harness:
            app = harness.build(DemoApp, "DEMO")
            harness.call(app, "move_axis", x="1", y="2")
            harness.recorder.assert_executed("move_axis", x=1.0, y=2.0, speed=100)
    return (time.perf_counter() - start) / iterations


def per_app_build(iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        with AppHarness() as harness:
            harness.build(DemoApp, "DEMO")
    return (time.perf_counter() - start) / iterations


def sleeping_loop(turns: int) -> tuple[float, float]:
    with AppHarness() as harness:
        app = harness.build(Sleeper, "SLEEPER")
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the welcome banner
            result = harness.run(app, turns=turns)
        wall = time.perf_counter() - start
    return result.virtual_seconds, wall


def app_records(count: int) -> float:
    with AppHarness() as harness:
        app = harness.build(Sleeper, "RATE")
        start = time.perf_counter()
        for i in range(count):
            app.counter = i
        wall = time.perf_counter() - start
        assert len(harness.recorder.values("counter")) == count + 1
    return count / wall


def bare_records(count: int) -> float:
    broker = FakeBroker()
    recorder = Recorder(broker)
    stamp = format_timestamp()
    start = time.perf_counter()
    for i in range(count):
        broker.produce(
            "ofa_assets", "RATE", asset_record("counter", i, "Counter", "Samples", stamp)
        )
    wall = time.perf_counter() - start
    assert len(recorder.values("counter")) == count
    return count / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    # Logs are captured as pytest would capture them, not printed: we time the harness, not a tty.
    logging.basicConfig(stream=io.StringIO(), level=logging.INFO)

    test_cost = best_of(args.repeat, lambda: per_app_test(args.tests))
    build_cost = best_of(args.repeat, lambda: per_app_build(args.tests))
    print(
        f"app test (build + command + assert): {test_cost * 1e3:.3f} ms "
        f"[target < 1 ms: {'PASS' if test_cost < 1e-3 else 'FAIL'}]; "
        f"ratio to building the app alone: {test_cost / build_cost:.2f}"
    )

    runs = [sleeping_loop(args.turns) for _ in range(args.repeat)]
    virtual, wall = statistics.median(v for v, _ in runs), statistics.median(w for _, w in runs)
    print(
        f"{args.turns} turns of time.sleep(2): {virtual:.0f} virtual s in {wall:.3f} wall s = "
        f"{virtual / wall:,.0f} virtual s per wall s "
        f"[target < 1 s wall: {'PASS' if wall < 1 else 'FAIL'}]"
    )

    app_rate = best_of(args.repeat, lambda: app_records(args.records))
    bare_rate = best_of(args.repeat, lambda: bare_records(args.records))
    print(
        f"records app -> broker -> recorder: {app_rate:,.0f}/s; bare broker.produce of the same "
        f"records: {bare_rate:,.0f}/s; ratio {app_rate / bare_rate:.2f}"
    )


if __name__ == "__main__":
    main()
