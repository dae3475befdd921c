"""Benchmark of the production path over a loopback Kafka (DESIGN.md section 5).

Everything runs in one process against librdkafka's in-process mock cluster (real Kafka
protocol on loopback) and the fake ksqlDB served over HTTP, with the real ``KSQLDBClient`` and
``KafkaTransport`` an app uses in production. Printed, from one run:

  1. attribute updates/s from one app (``app.counter = i``: value, timestamp, JSON, produce)
     vs a bare confluent-kafka ``Producer`` producing the same records (same JSON built the
     same way, same configuration) vs the same bare producer flushing after every record;
     ratios SDK/bare (target >= 0.75) and SDK/flush-every-record (target >= 30);
  2. records a plain consumer found on the topic for each SDK run (must equal those sent);
  3. command round trip (caller publishes ``ping_CMD`` -> the method starts in the app),
     p50/p99/max over ``--commands`` commands (target p99 < 50 ms).

    .venv/bin/python bench/production.py [--records 50000] [--commands 1000] [--repeat 3]

Exit code 0 when it measured (a missed target is reported, not raised), 1 if records were lost.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import operator
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from confluent_kafka import Producer

from openfactory.apps import OpenFactoryApp, SampleAttribute, ofa_method
from openfactory.assets import Asset
from openfactory.kafka import KafkaTransport, KSQLDBClient
from openfactory.kafka._clients import producer_config
from openfactory.testing import FakeKSQLDB
from openfactory.testing.kafka_mirror import KafkaMirror
from openfactory.testing.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback import LoopbackKafka
from openfactory.transport import Record
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


class Counter:
    """A plain Kafka consumer (through its own transport) counting one asset's counter records."""

    def __init__(self, client: KSQLDBClient, bootstrap: str, asset_uuid: str) -> None:
        self.seen = 0
        self._changed = threading.Condition()
        self._transport = KafkaTransport(bootstrap, client)
        self._transport.subscribe(TOPIC, asset_uuid, self._count)

    def _count(self, record: Record) -> None:
        if record.json()["ID"] == "counter":
            with self._changed:
                self.seen += 1
                self._changed.notify_all()

    def wait_for(self, expected: int) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self.seen >= expected, TIMEOUT)
        self._transport.close()
        return self.seen


def sdk_rate(client: KSQLDBClient, bootstrap: str, count: int) -> tuple[float, int]:
    """Updates/s of ``app.counter = i``, flush included, and how many a consumer then found."""
    run_uuid = f"BENCH-{uuid.uuid4().hex[:8]}"
    counter = Counter(client, bootstrap, run_uuid)
    with app_named(run_uuid, client, bootstrap) as app:
        assert app.transport.flush(TIMEOUT).ok
        start = time.perf_counter()
        for i in range(1, count + 1):
            app.counter = i
        result = app.transport.flush(TIMEOUT)
        elapsed = time.perf_counter() - start
        if not result.ok:
            raise SystemExit(f"SDK run left {result.undelivered} undelivered")
    # the app also published the counter's start value (0) before the timed records
    return count / elapsed, counter.wait_for(count + 1) - 1


def bare_rate(bootstrap: str, count: int, flush_each: bool = False) -> float:
    """Records/s of a bare confluent-kafka producer sending the SDK's records."""
    producer = Producer(producer_config(bootstrap, {}))
    key = f"BARE-{uuid.uuid4().hex[:8]}"
    warm = asset_record("counter", 0, "Bench.Counter", "Samples", format_timestamp())
    producer.produce(TOPIC, warm, key)
    producer.flush(TIMEOUT)  # an idempotent producer waits for its id first
    start = time.perf_counter()
    for i in range(1, count + 1):
        value = asset_record("counter", i, "Bench.Counter", "Samples", format_timestamp())
        producer.produce(TOPIC, value, key)
        if flush_each:
            producer.flush(TIMEOUT)
        else:
            producer.poll(0)
    left = producer.flush(TIMEOUT)
    elapsed = time.perf_counter() - start
    if left:
        raise SystemExit(f"bare producer left {left} undelivered")
    return count / elapsed


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


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--flush-records", type=int, default=2_000)
    parser.add_argument("--commands", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with (
        LoopbackKafka() as kafka,
        FakeKSQLDBServer(FakeKSQLDB()) as plain_server,
        KSQLDBClient(plain_server.url) as client,
    ):
        bootstrap = kafka.bootstrap_servers
        kafka.create_topic(TOPIC)
        sdk_rate(client, bootstrap, 1_000)  # warm-up: shared producer and consumer
        sdk_rates, bare_rates, found = [], [], []
        for _ in range(args.repeat):  # interleaved, so machine noise hits both alike
            rate, counted = sdk_rate(client, bootstrap, args.records)
            sdk_rates.append(rate)
            found.append(counted)
            bare_rates.append(bare_rate(bootstrap, args.records))
        flush_rate = median_of(
            args.repeat, lambda: bare_rate(bootstrap, args.flush_records, flush_each=True)
        )
        sdk, bare = statistics.median(sdk_rates), statistics.median(bare_rates)
        print(f"attribute updates/s, {args.records} records, median of {args.repeat}:")
        print(f"  SDK (app.counter = i, KafkaTransport):      {sdk:>10,.0f}/s")
        print(f"  bare confluent-kafka, same records:         {bare:>10,.0f}/s")
        print(f"  bare, flush after every record:             {flush_rate:>10,.0f}/s")
        ratio, versus_flush = sdk / bare, sdk / flush_rate
        print(f"  SDK / bare       = {ratio:6.2f}  [target >= 0.75: {verdict(ratio >= 0.75)}]")
        passed = verdict(versus_flush >= 30)
        print(f"  SDK / flush-each = {versus_flush:6.1f}  [target >= 30: {passed}]")

        lost = any(counted != args.records for counted in found)
        for run, counted in enumerate(found, 1):
            print(
                f"  run {run}: a consumer found {counted} of {args.records} records sent "
                f"[{verdict(counted == args.records)}]"
            )

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
