"""Benchmark of the in-memory world (DESIGN.md section 5).

Every figure is the median of ``--rounds`` rounds (>= 5) with its spread (min-max), the arms of
a comparison interleaved round by round; bars are judged on ratios to a baseline of the same run.

  1. An app test (build the documented demo app, send it a command, assert on the recorder it
     executed), in ms [bar <= 0.5 ms]; the baseline beside it: building the app alone, and how
     many bare produce -> recorder records the test costs.
  2. A loop sleeping 2 s a turn under the virtual clock: wall time of 10,000 turns [bar < 1 s].
  3. Attribute updates app -> in-memory broker -> subscriber, against bare ``FakeBroker.produce``
     -> the same subscriber of the same records: the app on a ``FakeKSQLDB`` materializing its
     tables as it does for any app, the bare broker alone; both worlds live, timed in alternating
     blocks of 1,000, each ending with the subscriber read (what a test asserts on) inside the
     timing. Subscriber: a ``Recorder`` (what a test reads with) [bar: ratio >= 0.5];
     then, for the record, a subscription decoding each record and one only keeping it. The
     garbage collector is off while timing, as ``timeit`` has it: both arms leave the same
     objects behind per record (the subscriber's), and a full collection of the growing heap
     lands on whichever block it falls in, which made rounds differ up to 3x.
  4. Look-ups do not grow with the number of assets: pull queries by key and by ``ASSET_UUID``
     on a fake ksqlDB holding 10 assets vs 10,000 [bar: ratio <= 1.25]; and the per-app cost of
     building 1,000 test-mode apps in one process, last 100 vs first 100.

    .venv/bin/python bench/harness.py [--rounds 7] [--tests 300] [--records 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rounds import at_least, at_most, interleaved, ratios, spread, verdict
from demo_app import DemoApp

from openfactory import backends
from openfactory.apps import EventAttribute, OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.kafka import KSQLDBClient
from openfactory.testing import AppHarness, FakeBroker, FakeKSQLDB, Recorder
from openfactory.transport import Record
from openfactory.transport.wire import asset_record, format_timestamp

TOPIC = "ofa_assets"


class Sleeper(OpenFactoryApp):
    counter = SampleAttribute(value=0, tag="Counter")

    def main_loop(self) -> None:
        while True:
            time.sleep(2)


class Small(OpenFactoryApp):
    status = EventAttribute(value="idle", tag="Small.Status")

    @ofa_method()
    def go(self) -> None:
        """Do nothing."""


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """App logs and banners go where pytest would capture them, not to a terminal: we time the
    SDK, not a tty."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


# 1. an app test -----------------------------------------------------------------------------
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


# 2. virtual time ----------------------------------------------------------------------------
def sleeping_loop(turns: int) -> float:
    with AppHarness() as harness:
        app = harness.build(Sleeper, "SLEEPER")
        start = time.perf_counter()
        result = harness.run(app, turns=turns)
        wall = time.perf_counter() - start
    assert result.virtual_seconds == 2 * turns, result
    return wall


# 3. throughput ------------------------------------------------------------------------------
Subscriber = Callable[[FakeBroker], Callable[[], int]]


def recorder(broker: FakeBroker) -> Callable[[], int]:
    """A ``Recorder`` on ``broker``; returns how many attribute records it holds (asking
    decodes those not read yet: a Recorder decodes when a test reads, not on delivery)."""
    held = Recorder(broker)
    return lambda: len(held.attributes)


def decoder(broker: FakeBroker) -> Callable[[], int]:
    """A subscription reading every record of the topic (its JSON), as any consumer does."""
    read: list[object] = []
    broker.subscribe(TOPIC, None, lambda record: read.append(record.json()))
    return lambda: len(read)


def keeper(broker: FakeBroker) -> Callable[[], int]:
    """A subscription keeping every record of the topic; returns how many it holds."""
    kept: list[Record] = []
    broker.subscribe(TOPIC, None, kept.append)
    return lambda: len(kept)


class AppWorld:
    """An app on a fake ksqlDB materializing from its broker, ``subscriber`` on the broker."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.ksqldb = FakeKSQLDB()
        os.environ["APP_UUID"] = "RATE"
        self.app = Sleeper(ksqlClient=self.ksqldb)
        self.received = subscriber(self.ksqldb.broker)
        self.sent = 0

    def block(self, count: int) -> float:
        """Seconds for ``count`` updates ``app.counter = i``."""
        app, first = self.app, self.sent
        start = time.perf_counter()
        for i in range(first, first + count):
            app.counter = i
        self.received()  # what a test then does: read what arrived
        wall = time.perf_counter() - start
        self.sent += count
        return wall

    def check(self) -> None:
        assert self.received() == self.sent, (self.received(), self.sent)
        last = self.ksqldb.query("SELECT VALUE FROM assets WHERE KEY='RATE|counter';")
        assert last == [{"VALUE": str(self.sent - 1)}], last
        self.app.close()


class BareWorld:
    """A bare ``FakeBroker`` with ``subscriber`` on it, and the same records encoded beforehand."""

    def __init__(self, subscriber: Subscriber, count: int) -> None:
        self.broker = FakeBroker()
        self.received = subscriber(self.broker)
        stamp = format_timestamp()
        self.records = [
            asset_record("counter", i, "Counter", "Samples", stamp) for i in range(count)
        ]
        self.sent = 0

    def block(self, count: int) -> float:
        """Seconds to produce the next ``count`` records."""
        produce, records = self.broker.produce, self.records[self.sent : self.sent + count]
        start = time.perf_counter()
        for record in records:
            produce(TOPIC, "RATE", record)
        self.received()
        wall = time.perf_counter() - start
        self.sent += count
        return wall

    def check(self) -> None:
        assert self.received() == self.sent


def paired_rates(records: int, subscriber: Subscriber, block: int = 1_000) -> tuple[float, float]:
    """(app updates/s, bare records/s) over ``records`` each, in alternating blocks: whatever
    else the machine does falls on both arms alike."""
    gc.collect()  # the worlds of the round before
    app, bare = AppWorld(subscriber), BareWorld(subscriber, records)
    app_wall = bare_wall = 0.0
    gc.disable()  # see the module docstring
    try:
        for _ in range(records // block):
            app_wall += app.block(block)
            bare_wall += bare.block(block)
    finally:
        gc.enable()
    app.check()
    bare.check()
    return app.sent / app_wall, bare.sent / bare_wall


# 4. growth with the number of assets ----------------------------------------------------------
def fake_with_assets(assets: int) -> FakeKSQLDB:
    """A fake ksqlDB holding ``assets`` assets of ten attributes each, all read into its tables."""
    ksqldb = FakeKSQLDB()
    stamp = format_timestamp()
    for n in range(assets):
        for attr in ("avail", *(f"attr{i}" for i in range(9))):
            ksqldb.broker.produce(TOPIC, f"A-{n}", asset_record(attr, n, "T", "Events", stamp))
    ksqldb.query("SELECT ID FROM assets WHERE ASSET_UUID='A-0';")  # reads what was noted
    return ksqldb


def per_query(ksqldb: FakeKSQLDB, assets: int, queries: int) -> float:
    """Seconds per pull query by KEY, by ASSET_UUID (assets table) and by the key of
    assets_avail, for ten assets spread over all of them: the same ten query texts whatever the
    number of assets, so parsing (cached per text) costs both arms alike."""
    uuids = [f"A-{n * assets // 10}" for n in range(10)]
    texts = []
    for uuid in uuids:
        texts.append(f"SELECT ID, VALUE FROM assets WHERE ASSET_UUID='{uuid}';")
        texts.append(f"SELECT VALUE FROM assets WHERE KEY='{uuid}|attr3';")
        texts.append(f"SELECT AVAILABILITY FROM assets_avail WHERE ASSET_UUID='{uuid}';")
    query = ksqldb.query
    start = time.perf_counter()
    for n in range(queries):
        assert query(texts[n % len(texts)])
    return (time.perf_counter() - start) / queries


def app_build_costs(apps: int, round_: int) -> list[float]:
    """Seconds to build each of ``apps`` test-mode apps, all kept running in one process."""
    backends.reset()
    client = KSQLDBClient("http://localhost:1")
    built, costs = [], []
    for n in range(apps):
        os.environ["APP_UUID"] = f"SMALL-{round_}-{n}"
        start = time.perf_counter()
        built.append(Small(client, test_mode=True, loglevel="WARNING"))
        costs.append(time.perf_counter() - start)
    for app in built:
        app.close()
    backends.reset()
    return costs


def app_test_costs(args: argparse.Namespace) -> None:
    with quiet():
        per_app_test(20)  # warm-up: imports, caches
        costs = interleaved(
            args.rounds,
            {
                "test": lambda: per_app_test(args.tests),
                "build": lambda: per_app_build(args.tests),
            },
        )
        bare = interleaved(args.rounds, {"bare": lambda: bare_record_cost(args.records)})["bare"]
    test_ms = statistics.median(costs["test"]) * 1e3
    print(f"1. app test (build the demo app, one command, assert executed), {args.tests} a round:")
    print(f"   {spread(costs['test'], 1e3, ' ms', 3)}  [bar <= 0.5 ms: {verdict(test_ms <= 0.5)}]")
    print(f"   baseline: building the app alone {spread(costs['build'], 1e3, ' ms', 3)}")
    print(f"   app test / building the app alone = {spread(ratios(costs['test'], costs['build']))}")
    tests_in_records = statistics.median(costs["test"]) / statistics.median(bare)
    print(f"   = {tests_in_records:,.0f} bare produce -> Recorder records of the same run")


def bare_record_cost(records: int) -> float:
    """Seconds per record of bare ``FakeBroker.produce`` -> ``Recorder``."""
    gc.collect()
    world = BareWorld(recorder, records)
    return world.block(records) / records


def sleeping_loops(args: argparse.Namespace) -> None:
    with quiet():
        walls = [sleeping_loop(args.turns) for _ in range(args.rounds)]
    print(f"2. {args.turns} turns of time.sleep(2) ({2 * args.turns} virtual s), wall time:")
    ok = statistics.median(walls) < 1
    print(f"   {spread(walls, 1, ' s', 3)}  [bar < 1 s: {verdict(ok)}]")


def throughput(args: argparse.Namespace) -> None:
    print(f"3. attribute updates, {args.records} a round, in blocks of 1,000 alternating arms:")
    for label, subscriber, bar in (
        ("a Recorder (the bar)", recorder, 0.5),
        ("a subscription decoding each record", decoder, None),
        ("a subscription keeping each record", keeper, None),
    ):
        with quiet():
            paired_rates(2_000, subscriber)  # warm-up
            runs = [paired_rates(args.records, subscriber) for _ in range(args.rounds)]
        app_rates, bare_rates = [a for a, _ in runs], [b for _, b in runs]
        print(f"   subscriber: {label}")
        print(f"     app.counter = i -> broker -> subscriber: {spread(app_rates, 1, '/s', 0)}")
        print(f"     bare FakeBroker.produce -> subscriber:   {spread(bare_rates, 1, '/s', 0)}")
        ratio = ratios(app_rates, bare_rates)
        if bar is None:
            print(f"     app / bare = {spread(ratio)}  (for the record)")
        else:
            print("     " + at_least("app / bare", ratio, bar))


def growth(args: argparse.Namespace) -> None:
    print("4. growth with the number of assets:")
    small, big = fake_with_assets(10), fake_with_assets(10_000)
    costs = interleaved(
        args.rounds,
        {
            "10": lambda: per_query(small, 10, args.queries),
            "10000": lambda: per_query(big, 10_000, args.queries),
        },
    )
    print("   pull queries by KEY and by ASSET_UUID (the same 10 texts in both):")
    print(f"     10 assets (100 rows):             {spread(costs['10'], 1e6, ' us')}")
    print(f"     10,000 assets (100,000 rows):     {spread(costs['10000'], 1e6, ' us')}")
    print("     " + at_most("10,000 / 10", ratios(costs["10000"], costs["10"]), 1.25))
    with quiet():
        builds = [app_build_costs(args.apps, n) for n in range(args.rounds)]
    first = [statistics.median(costs[:100]) for costs in builds]
    last = [statistics.median(costs[-100:]) for costs in builds]
    print(f"   {args.apps} test-mode apps built in one process (each a new asset and logger):")
    print(f"     first 100: {spread(first, 1e3, ' ms', 3)} an app")
    print(f"     last 100:  {spread(last, 1e3, ' ms', 3)} an app")
    print(f"     last / first = {spread(ratios(last, first))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tests", type=int, default=300)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--apps", type=int, default=1_000)
    parser.add_argument("--only", choices=("test", "sleep", "throughput", "growth"))
    args = parser.parse_args()
    # Logs are captured as pytest would capture them, not printed.
    logging.basicConfig(stream=io.StringIO(), level=logging.INFO)
    print(f"median (min-max) of {args.rounds} rounds")
    parts = {"test": app_test_costs, "sleep": sleeping_loops, "throughput": throughput,
             "growth": growth}  # fmt: skip
    for name, part in parts.items():
        if args.only in (None, name):
            part(args)


if __name__ == "__main__":
    main()
