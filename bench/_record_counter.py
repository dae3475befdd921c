"""A plain confluent-kafka consumer, run as its own process by ``bench/production.py``.

It counts, per key, the records of attribute ``counter`` published on a topic after it
started, so counting costs the measured process no Python time. Protocol on stdin/stdout: it prints
``ready`` once assigned at the end of every partition; to ``wait KEY N`` it answers with the
number of records of ``KEY`` found once there are ``N``, or when ``TIMEOUT`` s pass.

    python bench/_record_counter.py BOOTSTRAP TOPIC
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections import Counter

from confluent_kafka import Consumer, TopicPartition

TIMEOUT = 60.0


def is_counter(value: bytes | None) -> bool:
    # The records' layout puts ID first; matching bytes instead of decoding JSON keeps this
    # process light on the CPU it shares with the measured one (it must read while they run:
    # the mock cluster drops old records once a partition holds a few MB).
    return value is not None and value.startswith(b'{"ID": "counter", ')


def wait_for(found: Counter[bytes], changed: threading.Condition, key: bytes, n: int) -> int:
    with changed:
        changed.wait_for(lambda: found[key] >= n, TIMEOUT)
        return found[key]


def main() -> int:
    bootstrap, topic = sys.argv[1:3]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-counter-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
        }
    )
    partitions = consumer.list_topics(topic, timeout=TIMEOUT).topics[topic].partitions
    start = []
    for partition in partitions:
        _, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), TIMEOUT)
        start.append(TopicPartition(topic, partition, end))
    consumer.assign(start)
    found: Counter[bytes] = Counter()
    changed = threading.Condition()

    def count() -> None:
        while True:
            for message in consumer.consume(1000, 0.05):
                if message.error() is None and is_counter(message.value()):
                    with changed:
                        found[message.key()] += 1
                        changed.notify_all()

    threading.Thread(target=count, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        _, key, expected = line.split()
        print(wait_for(found, changed, key.encode(), int(expected)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
