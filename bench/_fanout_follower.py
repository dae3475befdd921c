"""One app of ``bench/fanout.py``: follows one asset, run as a process of its own.

It builds an ``Asset`` view of ``ASSET`` through the backends switch (Kafka-direct, or through
the fan-out layer when ``ASSET_ROUTER_URL`` is set), subscribes to its messages and counts them.
Protocol on stdin/stdout: prints ``ready``; on ``go`` notes its CPU time and the records its
clients fetched so far and prints ``started``; on ``stop N`` waits until its subscription got
``N`` messages (at most ``TIMEOUT`` s), then prints one JSON line: CPU seconds, messages
delivered, records fetched from Kafka (its consumer's librdkafka ``rxmsgs``) and from NATS.

    python bench/_fanout_follower.py BOOTSTRAP KSQLDB_URL ASSET
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from openfactory.assets import Asset
from openfactory.backends import override_transport
from openfactory.kafka import KSQLDBClient
from openfactory.kafka.transport import KafkaTransport

TIMEOUT = 60.0
STATS_MS = 1000  # librdkafka statistics are JSON parsed here: rarely, to cost little


class KafkaFetched:
    """Records this process's Kafka consumer fetched, from librdkafka's statistics."""

    def __init__(self) -> None:
        self.rxmsgs = 0
        self.reports = 0
        self.changed = threading.Condition()

    def __call__(self, stats_json: str) -> None:
        stats: dict[str, Any] = json.loads(stats_json)
        if stats.get("type") != "consumer":
            return
        with self.changed:
            self.rxmsgs = int(stats.get("rxmsgs", 0))
            self.reports += 1
            self.changed.notify_all()

    def fresh(self) -> int:
        """The count of a report made after this call (the statistics arrive periodically)."""
        with self.changed:
            seen = self.reports
            self.changed.wait_for(lambda: self.reports > seen, 3 * STATS_MS / 1000)
            return self.rxmsgs


def nats_fetched() -> int:
    if "openfactory.fanout.nats_client" not in sys.modules:
        return 0
    from openfactory.fanout.nats_client import shared_connections

    return sum(bus.received for bus in shared_connections())


def main() -> int:
    bootstrap, ksqldb_url, asset_uuid = sys.argv[1:4]
    kafka = KafkaFetched()
    config = {"statistics.interval.ms": STATS_MS, "stats_cb": kafka}
    client = KSQLDBClient(ksqldb_url)
    delivered = [0]
    arrived = threading.Condition()

    def count(_uuid: str, _message: dict[str, Any]) -> None:
        with arrived:
            delivered[0] += 1
            arrived.notify_all()

    # Through the switch, as an app's would be; only the Kafka clients' statistics are added.
    with override_transport(lambda ksql, _b: KafkaTransport(bootstrap, ksql, config=config)):
        view = Asset(asset_uuid, client, bootstrap)
    view.subscribe_to_messages(count)
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    kafka_start = kafka.fresh()
    nats_start = nats_fetched()
    cpu_start = time.process_time()
    with arrived:
        delivered[0] = 0
    print("started", flush=True)
    expected = int(sys.stdin.readline().split()[1])
    with arrived:
        arrived.wait_for(lambda: delivered[0] >= expected, TIMEOUT)
    cpu = time.process_time() - cpu_start
    result = {
        "cpu_s": cpu,
        "delivered": delivered[0],
        "kafka_fetched": kafka.fresh() - kafka_start,
        "nats_fetched": nats_fetched() - nats_start,
    }
    print(json.dumps(result), flush=True)
    view.close()
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
