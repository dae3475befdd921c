"""Benchmark of the production path over a loopback Kafka (DESIGN.md section 5).

Everything but the record counter runs in one process against librdkafka's in-process mock
cluster (real Kafka protocol on loopback) and the fake ksqlDB served over HTTP, with the real
``KSQLDBClient`` and ``KafkaTransport`` an app uses in production. Every figure is the median of
``--rounds`` rounds (>= 5) with its spread (min-max), the arms of a comparison interleaved round
by round; bars are judged on the median of the per-round ratios.

  1. Attribute updates/s from one app (``app.counter = i``: value, timestamp, JSON, produce, and
     the app's own subscription taking its echoes back), flush included, against a bare
     confluent-kafka ``Producer`` (the SDK's producer settings) producing the same records
     encoded as a hand-written producer does (``datetime`` and ``json.dumps``), ``poll(0)`` after
     each [bar: SDK / bare >= 1.0]. For the record: the bare producer with the SDK's encoder.
     A plain consumer in another process counts the records of every run: none may be lost.
  2. Command round trip (a caller's ``Asset.method("ping")`` -> the method starts in the app)
     against bare confluent-kafka produce -> consume of the same record with identical client
     settings: the producer settings the SDK sends commands with (``linger.ms`` 0, see
     ``openfactory.kafka._commands``; the SDK's attribute producer keeps ``linger.ms`` 5) and
     the SDK's consumer settings. p50 of ``--commands`` commands a round [bar: SDK / bare <= 1.25],
     under the default settings (``fetch.wait.max.ms`` 10) and latency-tuned ones (1 ms: this
     cluster holds an empty fetch for the whole wait, Apache Kafka does not).

    .venv/bin/python bench/production.py [--rounds 5] [--records 30000] [--commands 200]

Exit code 0 when it measured (a missed bar is reported, not raised), 1 if records were lost.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rounds import at_least, at_most, interleaved, ratios, spread, verdict

from openfactory import backends
from openfactory.apps import OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.kafka import KSQLDBClient
from openfactory.kafka._clients import FETCH_WAIT_ENV, consumer_config, producer_config
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback.kafka import LoopbackKafka
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror
from openfactory.transport.wire import asset_record, format_timestamp

TOPIC = "ofa_assets"
TIMEOUT = 60.0


class CounterApp(OpenFactoryApp):
    """Publishes a counter; ``ping`` records when each command reaches it."""

    counter = SampleAttribute(value=0, tag="Bench.Counter")

    def __init__(self, *args, **kwargs) -> None:
        self.arrivals: dict[int, float] = {}
        self.arrived = threading.Condition()
        super().__init__(*args, **kwargs)

    @ofa_method(description="Note the arrival of command n")
    def ping(self, n: int) -> None:
        with self.arrived:
            self.arrivals[n] = time.perf_counter()
            self.arrived.notify_all()


@contextlib.contextmanager
def app_named(uuid_: str, client: KSQLDBClient, bootstrap: str) -> Iterator[CounterApp]:
    os.environ["APP_UUID"] = uuid_
    with contextlib.redirect_stdout(io.StringIO()):
        app = CounterApp(client, bootstrap_servers=bootstrap, loglevel="WARNING")
    try:
        yield app
    finally:
        app.shutdown()


class RecordCounter:
    """The plain consumer of ``_record_counter.py``, in its own process: counting records costs
    the measured process nothing, for the SDK and the bare runs alike."""

    def __init__(self, bootstrap: str) -> None:
        script = Path(__file__).with_name("_record_counter.py")
        self._process = subprocess.Popen(
            [sys.executable, str(script), bootstrap, TOPIC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self._ask(None) != "ready":
            raise SystemExit("the record counter did not start")

    def _ask(self, request: str | None) -> str:
        assert self._process.stdin is not None and self._process.stdout is not None
        if request is not None:
            self._process.stdin.write(request + "\n")
            self._process.stdin.flush()
        return self._process.stdout.readline().strip()

    def found(self, key: str, expected: int) -> int:
        """Records of ``key`` found, once ``expected`` are there or after the counter's timeout."""
        return int(self._ask(f"wait {key} {expected}"))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(TIMEOUT)


# 1. publishing ------------------------------------------------------------------------------
def sdk_rate(client: KSQLDBClient, bootstrap: str, count: int) -> tuple[float, str]:
    """Updates/s of ``app.counter = i``, flush included; and the key the records went to."""
    run_uuid = f"BENCH-{uuid.uuid4().hex[:8]}"
    with app_named(run_uuid, client, bootstrap) as app:
        assert app.transport.flush(TIMEOUT).ok
        start = time.perf_counter()
        for i in range(1, count + 1):
            app.counter = i
        result = app.transport.flush(TIMEOUT)
        elapsed = time.perf_counter() - start
        if not result.ok:
            raise SystemExit(f"SDK run left {result.undelivered} undelivered")
    return count / elapsed, run_uuid


def hand_written_record(i: int) -> bytes:
    """Record ``i`` as written with nothing but the standard library (DESIGN.md section 3)."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    record = {
        "ID": "counter",
        "VALUE": i,
        "TAG": "Bench.Counter",
        "TYPE": "Samples",
        "attributes": {"timestamp": stamp},
    }
    return json.dumps(record).encode("utf-8")


def sdk_encoded_record(i: int) -> bytes:
    """The same record through the SDK's encoder (the bytes are the same, the cost is not)."""
    return asset_record("counter", i, "Bench.Counter", "Samples", format_timestamp())


def bare_rate(
    bootstrap: str, count: int, encode: Callable[[int], bytes] = hand_written_record
) -> tuple[float, str]:
    """Records/s of a bare confluent-kafka producer; and the key the records went to."""
    producer = Producer(producer_config(bootstrap, {}))
    key = f"BARE-{uuid.uuid4().hex[:8]}"
    producer.produce(TOPIC, b"{}", f"WARM-{key}")
    producer.flush(TIMEOUT)  # an idempotent producer waits for its id first
    start = time.perf_counter()
    for i in range(1, count + 1):
        producer.produce(TOPIC, encode(i), key)
        producer.poll(0)
    left = producer.flush(TIMEOUT)
    elapsed = time.perf_counter() - start
    if left:
        raise SystemExit(f"bare producer left {left} undelivered")
    return count / elapsed, key


def publishing(args: argparse.Namespace) -> bool:
    """Arm 1; True when no record was lost."""
    with (
        LoopbackKafka() as kafka,
        FakeKSQLDBServer(FakeKSQLDB()) as server,
        KSQLDBClient(server.url) as client,
    ):
        bootstrap = kafka.bootstrap_servers
        kafka.create_topic(TOPIC)
        counter = RecordCounter(bootstrap)
        sdk_rate(client, bootstrap, 1_000)  # warm-up: shared producer and consumer
        keys: dict[str, list[str]] = {"sdk": [], "bare": [], "encoder": []}

        def arm(name: str, measure: Callable[[], tuple[float, str]]) -> Callable[[], float]:
            def run() -> float:
                rate, key = measure()
                keys[name].append(key)
                return rate

            return run

        rates = interleaved(
            args.rounds,
            {
                "sdk": arm("sdk", lambda: sdk_rate(client, bootstrap, args.records)),
                "bare": arm("bare", lambda: bare_rate(bootstrap, args.records)),
                "encoder": arm(
                    "encoder", lambda: bare_rate(bootstrap, args.records, sdk_encoded_record)
                ),
            },
        )
        # The SDK run also published the counter's start value (0) before the timed ones.
        found = {
            name: [counter.found(key, args.records + (name == "sdk")) - (name == "sdk")
                   for key in done]
            for name, done in keys.items()
        }  # fmt: skip
        counter.close()
    print(f"1. attribute updates/s, {args.records} records a run:")
    print(f"   SDK (app.counter = i, KafkaTransport):     {spread(rates['sdk'], 1, '/s', 0)}")
    print(f"   bare confluent-kafka, json.dumps records:  {spread(rates['bare'], 1, '/s', 0)}")
    print(f"   (bare with the SDK's record encoder:       {spread(rates['encoder'], 1, '/s', 0)})")
    print("   " + at_least("SDK / bare", ratios(rates["sdk"], rates["bare"]), 1.0))
    lost = False
    print("   records a consumer in another process found of each run:")
    for name, counts in found.items():
        ok = all(n == args.records for n in counts)
        lost = lost or not ok
        shown = ", ".join(str(n) for n in counts)
        print(f"     {name:<8} {shown} of {args.records} sent  [zero lost: {verdict(ok)}]")
    return not lost


# 2. commands --------------------------------------------------------------------------------
def sdk_round_trips(client: KSQLDBClient, bootstrap: str, commands: int) -> list[float]:
    """Milliseconds from ``caller.method("ping")`` to the method starting, one at a time."""
    with app_named(f"PING-{uuid.uuid4().hex[:8]}", client, bootstrap) as app:
        # The caller learns the app's methods from ksqlDB when it is made: once they are there.
        sql = f"SELECT ID FROM assets WHERE KEY='{app.asset_uuid}|ping';"
        deadline = time.monotonic() + TIMEOUT
        while not client.query(sql):
            if time.monotonic() > deadline:
                raise SystemExit("the app's ping method never reached ksqlDB")
            time.sleep(0.01)
        caller = Asset(app.asset_uuid, client, bootstrap)
        try:
            latencies = []
            for n in range(commands):
                start = time.perf_counter()
                caller.method("ping", "BENCH-CALLER", {"n": n})
                with app.arrived:
                    if not app.arrived.wait_for(lambda n=n: n in app.arrivals, TIMEOUT):
                        raise SystemExit(f"command {n} never reached the app")
                latencies.append((app.arrivals[n] - start) * 1000)
            return latencies
        finally:
            caller.close()


def bare_round_trips(bootstrap: str, commands: int, fetch_wait_ms: int) -> list[float]:
    """Milliseconds from ``produce`` to ``poll`` returning the record, one at a time, with the
    producer settings the SDK sends commands with and the SDK's consumer settings."""
    producer = Producer(producer_config(bootstrap, {"linger.ms": 0}))
    settings = consumer_config(bootstrap, {"fetch.wait.max.ms": fetch_wait_ms})
    consumer = Consumer({**settings, "group.id": f"bench-{uuid.uuid4()}"})
    try:
        partitions = consumer.list_topics(TOPIC, timeout=TIMEOUT).topics[TOPIC].partitions
        ends = []
        for partition in partitions:
            _, end = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), TIMEOUT)
            ends.append(TopicPartition(TOPIC, partition, end))
        consumer.assign(ends)
        key = f"BARE-PING-{uuid.uuid4().hex[:8]}"
        latencies = []
        for n in range(-1, commands):  # -1: the idempotent producer's id, the first fetches
            value = b"%d" % n
            start = time.perf_counter()
            producer.produce(TOPIC, value, key)
            producer.poll(0)
            deadline = start + TIMEOUT
            while True:
                message = consumer.poll(0.05)
                if message is not None and message.error() is None and message.value() == value:
                    break
                if time.perf_counter() > deadline:
                    raise SystemExit(f"bare command {n} never came back")
            if n >= 0:
                latencies.append((time.perf_counter() - start) * 1000)
        return latencies
    finally:
        consumer.close()
        producer.flush(TIMEOUT)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def command_round_trips(args: argparse.Namespace) -> None:
    print(f"2. command round trip, {args.commands} commands a round (p50 of each round):")
    for label, fetch_wait_ms in (("default settings", 10), ("latency-tuned", 1)):
        os.environ[FETCH_WAIT_ENV] = str(fetch_wait_ms)
        backends.reset()  # readers made anew, with this wait
        try:
            runs = command_rounds(args, fetch_wait_ms)
        finally:
            os.environ.pop(FETCH_WAIT_ENV, None)
            backends.reset()
        p50 = {name: [statistics.median(run) for run in done] for name, done in runs.items()}
        p99 = {name: [percentile(run, 0.99) for run in done] for name, done in runs.items()}
        print(f"   {label} (fetch.wait.max.ms {fetch_wait_ms}; attribute producer linger.ms 5):")
        for name in ("sdk", "bare"):
            median, tail = spread(p50[name], 1, " ms"), spread(p99[name], 1, " ms")
            print(f"     {name:<4} p50 {median}   p99 {tail}")
        print("     " + at_most("SDK / bare (p50)", ratios(p50["sdk"], p50["bare"]), 1.25))


def command_rounds(args: argparse.Namespace, fetch_wait_ms: int) -> dict[str, list[list[float]]]:
    """Round-trip times (ms) of each round, SDK and bare interleaved."""
    with (
        LoopbackKafka() as kafka,
        KafkaMirror(kafka.bootstrap_servers) as mirror,
        FakeKSQLDBServer(FakeKSQLDB(mirror.broker)) as server,
        KSQLDBClient(server.url) as client,
    ):
        bootstrap = kafka.bootstrap_servers
        kafka.create_topic(TOPIC)
        sdk_round_trips(client, bootstrap, 20)  # warm-up
        bare_round_trips(bootstrap, 20, fetch_wait_ms)
        runs: dict[str, list[list[float]]] = {"sdk": [], "bare": []}
        for _ in range(args.rounds):
            runs["sdk"].append(sdk_round_trips(client, bootstrap, args.commands))
            runs["bare"].append(bare_round_trips(bootstrap, args.commands, fetch_wait_ms))
        return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--only", choices=("publish", "commands"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"median (min-max) of {args.rounds} rounds")
    complete = True
    if args.only in (None, "publish"):
        complete = publishing(args)
    if args.only in (None, "commands"):
        command_round_trips(args)
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
