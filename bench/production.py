"""Benchmark of the production path over a loopback Kafka (DESIGN.md section 5).

Everything but the record counter runs in one process against librdkafka's in-process mock
cluster (real Kafka protocol on loopback) and the fake ksqlDB served over HTTP, with the real
``KSQLDBClient`` and ``KafkaTransport`` an app uses in production. Printed, from one run:

  1. attribute updates/s from one app (``app.counter = i``: value, timestamp, JSON, produce,
     and the app's own subscription taking the records back) vs a bare confluent-kafka
     ``Producer`` (same configuration) producing the same bytes, encoded as the platform's
     producers do (``datetime`` and ``json.dumps``), vs that producer flushing after every
     record; ratios SDK/bare (target >= 0.75) and SDK/flush-each (target >= 30). For the
     record, the bare producer is also timed with the SDK's faster record encoder;
  2. the SDK and flush-each again on a cluster that answers after ``--lan-round-trip-ms``
     (librdkafka's ``test.mock.broker.rtt``): with no round trip at all, as in 1., a flush
     costs tens of microseconds, far less than on any networked broker;
  3. records a plain confluent-kafka consumer in another process found on the topic for
     every run (must equal those sent);
  4. command round trip (caller publishes ``ping_CMD`` -> the method starts in the app),
     p50/p99/max over ``--commands`` commands (target p99 < 50 ms).

    .venv/bin/python bench/production.py [--records 50000] [--commands 1000] [--repeat 3]
                                         [--flush-records 2000] [--lan-round-trip-ms 1]

Exit code 0 when it measured (a missed target is reported, not raised), 1 if records were lost.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import operator
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

from confluent_kafka import Producer

from openfactory.apps import OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.kafka import KSQLDBClient
from openfactory.kafka._clients import producer_config
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
    bootstrap: str,
    count: int,
    encode: Callable[[int], bytes] = hand_written_record,
    flush_each: bool = False,
) -> tuple[float, str]:
    """Records/s of a bare confluent-kafka producer; and the key the records went to."""
    producer = Producer(producer_config(bootstrap, {}))
    key = f"BARE-{uuid.uuid4().hex[:8]}"
    producer.produce(TOPIC, b"{}", f"WARM-{key}")
    producer.flush(TIMEOUT)  # an idempotent producer waits for its id first
    start = time.perf_counter()
    for i in range(1, count + 1):
        producer.produce(TOPIC, encode(i), key)
        if flush_each:
            producer.flush(TIMEOUT)
        else:
            producer.poll(0)
    left = producer.flush(TIMEOUT)
    elapsed = time.perf_counter() - start
    if left:
        raise SystemExit(f"bare producer left {left} undelivered")
    return count / elapsed, key


def round_trips(client: KSQLDBClient, bootstrap: str, commands: int) -> list[float]:
    """Milliseconds from publishing ``ping_CMD`` to the method starting, one command at a time."""
    with app_named(f"PING-{uuid.uuid4().hex[:8]}", client, bootstrap) as app:
        caller = Asset(app.asset_uuid, client, bootstrap)
        try:
            if not caller.wait_until(
                "ping", "UNAVAILABLE", comparison=operator.ne, timeout=TIMEOUT, use_ksqlDB=True
            ):
                raise SystemExit("the caller never saw the app's ping method in ksqlDB")
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


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


Runs = dict[str, list[tuple[float, str]]]


def publish_runs(
    args: argparse.Namespace, round_trip_ms: int, arms: tuple[str, ...]
) -> tuple[Runs, dict[str, list[int]]]:
    """Each arm ``args.repeat`` times, interleaved (machine noise hits all alike), on a fresh
    cluster answering after ``round_trip_ms``; and the records a consumer found per run."""
    with (
        LoopbackKafka(round_trip_ms=round_trip_ms) as kafka,
        FakeKSQLDBServer(FakeKSQLDB()) as server,
        KSQLDBClient(server.url) as client,
    ):
        bootstrap = kafka.bootstrap_servers
        kafka.create_topic(TOPIC)
        counter = RecordCounter(bootstrap)
        sdk_rate(client, bootstrap, 1_000)  # warm-up: shared producer and consumer
        measure: dict[str, Callable[[], tuple[float, str]]] = {
            "sdk": lambda: sdk_rate(client, bootstrap, args.records),
            "bare": lambda: bare_rate(bootstrap, args.records),
            "encoder": lambda: bare_rate(bootstrap, args.records, sdk_encoded_record),
            "flush-each": lambda: bare_rate(bootstrap, args.flush_records, flush_each=True),
        }
        runs: Runs = {name: [] for name in arms}
        for _ in range(args.repeat):
            for name in arms:
                runs[name].append(measure[name]())
        found = {
            # the SDK run also published the counter's start value (0) before the timed ones
            name: [
                counter.found(key, sent(args, name) + (name == "sdk")) - (name == "sdk")
                for _, key in done
            ]
            for name, done in runs.items()
        }
        counter.close()
    return runs, found


def sent(args: argparse.Namespace, arm: str) -> int:
    return args.flush_records if arm == "flush-each" else args.records


def median(done: list[tuple[float, str]]) -> float:
    return statistics.median(rate for rate, _ in done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--flush-records", type=int, default=2_000)
    parser.add_argument("--commands", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lan-round-trip-ms", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    runs, found = publish_runs(args, 0, ("sdk", "bare", "encoder", "flush-each"))
    sdk, bare, flush_rate = median(runs["sdk"]), median(runs["bare"]), median(runs["flush-each"])
    print(f"attribute updates/s, {args.records} records, median of {args.repeat}:")
    print(f"  SDK (app.counter = i, KafkaTransport):      {sdk:>10,.0f}/s")
    print(f"  bare confluent-kafka, json.dumps records:   {bare:>10,.0f}/s")
    print(f"  bare, flush after every record:             {flush_rate:>10,.0f}/s")
    print(f"  (bare with the SDK's record encoder:        {median(runs['encoder']):>10,.0f}/s)")
    ratio, versus_flush = sdk / bare, sdk / flush_rate
    print(f"  SDK / bare       = {ratio:6.2f}  [target >= 0.75: {verdict(ratio >= 0.75)}]")
    print(
        f"  SDK / flush-each = {versus_flush:6.1f}  [target >= 30: {verdict(versus_flush >= 30)}; "
        f"here a flush costs {1e6 / flush_rate:.0f} us: the broker answers with no round trip]"
    )

    lan = args.lan_round_trip_ms
    lan_runs, lan_found = publish_runs(args, lan, ("sdk", "flush-each"))
    lan_sdk, lan_flush = median(lan_runs["sdk"]), median(lan_runs["flush-each"])
    print(f"the same with a broker {lan} ms away (test.mock.broker.rtt), as across a LAN:")
    print(f"  SDK {lan_sdk:,.0f}/s   bare, flush after every record {lan_flush:,.0f}/s")
    print(
        f"  SDK / flush-each = {lan_sdk / lan_flush:6.1f}  [target >= 30: "
        f"{verdict(lan_sdk / lan_flush >= 30)}]"
    )

    lost = False
    print("records a separate consumer found on the topic:")
    for arm, label, counts in [
        *((arm, arm, counted) for arm, counted in found.items()),
        *((arm, f"{arm} ({lan} ms)", counted) for arm, counted in lan_found.items()),
    ]:
        expected = sent(args, arm)
        lost = lost or any(n != expected for n in counts)
        shown = ", ".join(str(n) for n in counts)
        ok = verdict(all(n == expected for n in counts))
        print(f"  {label:<17} {shown} of {expected} sent in each run [{ok}]")

    with (
        LoopbackKafka() as kafka,
        KafkaMirror(kafka.bootstrap_servers) as mirror,
        FakeKSQLDBServer(FakeKSQLDB(mirror.broker)) as server,
        KSQLDBClient(server.url) as client,
    ):
        round_trips(client, kafka.bootstrap_servers, 20)  # warm-up
        latencies = sorted(round_trips(client, kafka.bootstrap_servers, args.commands))
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"command round trip (publish m_CMD -> method runs), {args.commands} commands:")
        print(
            f"  p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {latencies[-1]:.1f} ms  "
            f"[target p99 < 50 ms: {verdict(p99 < 50)}]"
        )
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
