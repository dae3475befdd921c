"""Benchmark of the fan-out layer: what following one asset costs an app, Kafka-direct vs
through the asset router and NATS (DESIGN.md section 3, reference section 9.5).

N apps, each a process of its own (``bench/_fanout_follower.py``), follow one asset each
(``subscribe_to_messages`` on an ``Asset`` view, built through the backends switch) while M
assets publish ``--rate`` records per second each for ``--seconds`` s on librdkafka's mock
Kafka cluster (real protocol, loopback), each on its own (records spread evenly in time) or,
with ``--lockstep``, all at the same instants. Kafka-direct, each app's reader is assigned every
partition of the assets topic and fetches every record; through the fan-out layer, a real
nats-server on loopback, the asset router (HTTP) and the forwarder (its own process) deliver
each app only its asset's records. Per app: records fetched (Kafka: its consumer's librdkafka
``rxmsgs``; NATS: the connection's ``in_msgs``), messages delivered, and CPU time of the whole
process (every thread, librdkafka's included) from ``go`` until its asset's last record arrived.
Each round starts fresh processes for each path, in alternating order; printed: the median over
rounds of the per-round median over apps, with the spread (min-max) over rounds. The platform's
side of the fan-out (forwarder and nats-server CPU per round) is printed too.

    .venv/bin/python bench/fanout.py [--apps 20] [--assets 50] [--rate 20] [--seconds 3]
                                     [--rounds 5] [--lockstep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from openfactory.kafka.transport import KafkaTransport
from openfactory.testing import FakeKSQLDB
from openfactory.testing.loopback import LoopbackAssetRouter, LoopbackKafka, LoopbackNats
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.transport.wire import asset_record, format_timestamp

FOLLOWER = Path(__file__).with_name("_fanout_follower.py")
TOPIC = "ofa_assets"
TICK = os.sysconf("SC_CLK_TCK")
# The forwarder in a process of its own, so that its CPU time can be read apart.
FORWARDER = "; ".join(
    [
        "import sys",
        "from openfactory.testing.loopback.forwarder import main",
        "sys.exit(main(sys.argv[1:]))",
    ]
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@contextlib.contextmanager
def followers(
    count: int, assets: list[str], bootstrap: str, ksqldb_url: str, router_url: str | None
) -> Iterator[list[subprocess.Popen[str]]]:
    env = {k: v for k, v in os.environ.items() if k != "ASSET_ROUTER_URL"}
    if router_url:
        env["ASSET_ROUTER_URL"] = router_url
    started = [
        subprocess.Popen(
            [sys.executable, str(FOLLOWER), bootstrap, ksqldb_url, assets[i % len(assets)]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(count)
    ]
    try:
        for process in started:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a follower did not start (said {line!r})")
        yield started
    finally:
        for process in started:
            process.kill()
            process.wait()


def tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def hear(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


def publish(
    transport: KafkaTransport, assets: list[str], rate: float, seconds: float, lockstep: bool
) -> int:
    """Each asset publishes ``rate`` records/s for ``seconds`` s; returns the records per asset.

    The assets publish on their own, their records spread evenly in time, as devices do; with
    ``lockstep`` all of them publish at once at each tick, so a Kafka reader fetches one batch
    of every asset's record per tick.
    """
    per_asset = round(rate * seconds)
    every = 1 / rate if lockstep else 1 / (rate * len(assets))
    start = time.perf_counter()
    for turn in range(per_asset):
        stamp = format_timestamp()
        for index, asset in enumerate(assets):
            at = turn if lockstep else turn * len(assets) + index
            pause = start + at * every - time.perf_counter()
            if pause > 0.0005:
                time.sleep(pause)  # pacing the publishers, not waiting for a result
            record = asset_record("temp", 20.0 + turn, "T", "Samples", stamp)
            transport.publish(TOPIC, asset, record)
    assert transport.flush(30).ok, "records were not delivered to Kafka"
    return per_asset


def one_round(
    path: str, args: argparse.Namespace, world: dict, transport: KafkaTransport
) -> dict[str, float]:
    router = world["router_url"] if path == "fan-out" else None
    platform = [world["nats_pid"], world["forwarder_pid"]]
    with followers(
        args.apps, world["assets"], world["bootstrap"], world["ksqldb_url"], router
    ) as apps:
        for app in apps:
            tell(app, "go")
        for app in apps:
            assert hear(app) == "started"
        platform_start = [cpu_seconds(pid) for pid in platform]
        expected = publish(transport, world["assets"], args.rate, args.seconds, args.lockstep)
        for app in apps:
            tell(app, f"stop {expected}")
        results = [json.loads(hear(app)) for app in apps]
        platform_cpu = [
            cpu_seconds(pid) - s for pid, s in zip(platform, platform_start, strict=True)
        ]
    short = [r for r in results if r["delivered"] < expected]
    if short:
        raise RuntimeError(f"{len(short)} app(s) missed records of their asset: {short[:3]}")
    return {
        "fetched": statistics.median(r["kafka_fetched"] + r["nats_fetched"] for r in results),
        "delivered": statistics.median(r["delivered"] for r in results),
        "cpu_ms": 1000 * statistics.median(r["cpu_s"] for r in results),
        "nats_server_ms": 1000 * platform_cpu[0] if router else 0.0,
        "forwarder_ms": 1000 * platform_cpu[1] if router else 0.0,
    }


def spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):>9,.0f}{unit} [{min(values):,.0f}-{max(values):,.0f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="records/s per asset")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="every asset publishes at the same instants (default: each on its own, spread)",
    )
    args = parser.parse_args()
    assets = [f"ASSET-{i:03d}" for i in range(args.assets)]
    ksqldb = FakeKSQLDB()
    with (
        LoopbackKafka() as kafka,
        FakeKSQLDBServer(ksqldb) as ksqldb_server,
        LoopbackNats() as nats,
        LoopbackAssetRouter(nats.url) as router,
    ):
        forwarder = subprocess.Popen(
            [sys.executable, "-c", FORWARDER, kafka.bootstrap_servers, nats.url],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        transport = KafkaTransport(kafka.bootstrap_servers, ksqldb)
        try:
            assert hear(forwarder) == "ready", "the forwarder did not start"
            assert nats.pid is not None
            world = {
                "assets": assets, "bootstrap": kafka.bootstrap_servers,
                "ksqldb_url": ksqldb_server.url, "router_url": router.url,
                "nats_pid": nats.pid, "forwarder_pid": forwarder.pid,
            }  # fmt: skip
            rounds: dict[str, list[dict[str, float]]] = {"Kafka-direct": [], "fan-out": []}
            for number in range(args.rounds):
                order = list(rounds) if number % 2 == 0 else list(reversed(rounds))
                for path in order:
                    rounds[path].append(one_round(path, args, world, transport))
                print(f"round {number + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        finally:
            transport.close()
            forwarder.terminate()
            forwarder.wait(10)
    published = args.assets * round(args.rate * args.seconds)
    print(
        f"{args.apps} apps, each following 1 of {args.assets} assets; each asset publishes "
        f"{args.rate:g} records/s for {args.seconds:g} s ({published:,} records a round, "
        f"{'in lockstep' if args.lockstep else 'spread in time'}); "
        f"{args.rounds} rounds: median over rounds of the per-app median [min-max over rounds]"
    )
    print(f"{'':14} {'records fetched/app':>26} {'delivered/app':>22} {'CPU ms/app':>26}")
    for path, done in rounds.items():
        column = {key: [r[key] for r in done] for key in done[0]}
        print(
            f"{path:14} {spread(column['fetched']):>26} {spread(column['delivered']):>22} "
            f"{spread(column['cpu_ms'], ' ms'):>26}"
        )
    direct, fanout = rounds["Kafka-direct"], rounds["fan-out"]
    fetched = statistics.median(
        d["fetched"] / f["fetched"] for d, f in zip(direct, fanout, strict=True)
    )
    cpu = statistics.median(d["cpu_ms"] / f["cpu_ms"] for d, f in zip(direct, fanout, strict=True))
    print(
        f"Kafka-direct / fan-out, median of paired rounds: fetched {fetched:.1f}x, CPU {cpu:.1f}x"
    )
    print(
        "platform side of the fan-out, per round: forwarder "
        f"{spread([r['forwarder_ms'] for r in fanout], ' ms')}, nats-server "
        f"{spread([r['nats_server_ms'] for r in fanout], ' ms')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
