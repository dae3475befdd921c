"""The fake broker holds and delivers records the way Kafka would."""

from __future__ import annotations

import threading

import pytest

from openfactory.errors import ConfigurationError, TransportError
from openfactory.testing import FakeBroker
from openfactory.transport import DeliveryReport, Record, Subscription
from openfactory.transport.murmur2 import murmur2, partition_for


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_murmur2_matches_kafka_java_client(data: bytes, expected: int) -> None:
    signed = murmur2(data) - (1 << 32) if murmur2(data) >= 1 << 31 else murmur2(data)
    assert signed == expected


def test_partitions_offsets_and_keys() -> None:
    broker = FakeBroker(default_partitions=4)
    for i in range(20):
        broker.produce("t", f"k{i % 5}", b"%d" % i)
    records = broker.records("t")
    assert len(records) == 20
    for record in records:
        assert record.partition == partition_for(record.key.encode(), 4)
    by_partition: dict[int, list[int]] = {}
    for record in records:
        by_partition.setdefault(record.partition, []).append(record.offset)
    for offsets in by_partition.values():
        assert offsets == list(range(len(offsets)))
    assert [r.value for r in broker.records("t", "k1")] == [b"1", b"6", b"11", b"16"]


def test_tombstones_are_held_and_delivered() -> None:
    broker = FakeBroker()
    seen: list[Record] = []
    broker.subscribe("t", "A", seen.append)
    broker.produce("t", "A", None)
    assert seen[0].is_tombstone and broker.records("t")[0].value is None


def test_subscribers_start_at_the_end_and_filter_by_key() -> None:
    broker = FakeBroker()
    broker.produce("t", "A", b"before")
    mine: list[bytes | None] = []
    every: list[bytes | None] = []
    broker.subscribe("t", "A", lambda r: mine.append(r.value))
    broker.subscribe("t", None, lambda r: every.append(r.value))
    broker.produce("t", "A", b"1")
    broker.produce("t", "B", b"2")
    assert mine == [b"1"] and every == [b"1", b"2"]


def test_publish_from_a_callback_keeps_per_key_order() -> None:
    broker = FakeBroker()
    first: list[bytes | None] = []
    second: list[bytes | None] = []

    def echo(record: Record) -> None:
        first.append(record.value)
        if record.value == b"ping":
            broker.produce("t", "A", b"pong")

    broker.subscribe("t", "A", echo)
    broker.subscribe("t", "A", lambda r: second.append(r.value))
    broker.produce("t", "A", b"ping")
    assert first == second == [b"ping", b"pong"]


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    broker = FakeBroker()
    seen: list[Record] = []
    broker.subscribe("t", None, lambda r: 1 / 0)
    broker.subscribe("t", None, seen.append)
    broker.produce("t", "A", b"x")
    assert len(seen) == 1


def test_fail_next_reports_delivery_errors_and_holds_nothing() -> None:
    broker = FakeBroker()
    reports: list[DeliveryReport] = []
    broker.fail_next(2, reason="disk full")
    for value in (b"1", b"2", b"3"):
        broker.produce("t", "A", value, reports.append)
    assert [r.error for r in reports] == ["disk full", "disk full", None]
    assert [r.value for r in broker.records("t")] == [b"3"]


def test_disconnect_holds_records_until_reconnect() -> None:
    broker = FakeBroker()
    seen: list[bytes | None] = []
    broker.subscribe("t", None, lambda r: seen.append(r.value))
    broker.disconnect()
    broker.produce("t", "A", b"1")
    assert broker.flush(timeout=0.01) == 1 and seen == []
    broker.reconnect()
    assert broker.flush() == 0 and seen == [b"1"]


def test_concurrent_publishers_lose_nothing() -> None:
    broker = FakeBroker()
    seen: list[Record] = []
    broker.subscribe("t", None, seen.append)

    def publish(key: str) -> None:
        for i in range(500):
            broker.produce("t", key, b"%d" % i)

    threads = [threading.Thread(target=publish, args=(f"k{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert broker.flush() == 0
    assert len(seen) == 2000
    for n in range(4):
        assert [r.value for r in seen if r.key == f"k{n}"] == [b"%d" % i for i in range(500)]


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="default_partitions"):
        FakeBroker(default_partitions=0)
    broker = FakeBroker()
    with pytest.raises(TransportError, match="bytes"):
        broker.produce("t", "A", "text")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="topic name"):
        broker.create_topic("")
    with pytest.raises(ConfigurationError, match="fail_next"):
        broker.fail_next(-1)


def test_subscribers_see_each_record_in_the_order_they_subscribed() -> None:
    broker = FakeBroker()
    seen: list[str] = []
    broker.produce("t", "A", b"0")  # routes are built, then subscriptions change them
    broker.subscribe("t", "A", lambda r: seen.append("A1"))
    broker.subscribe("t", None, lambda r: seen.append("all"))
    broker.produce("t", "A", b"1")
    broker.produce("t", "B", b"2")
    last = broker.subscribe("t", "A", lambda r: seen.append("A2"))
    broker.produce("t", "A", b"3")
    last.stop()
    broker.produce("t", "A", b"4")
    assert seen == ["A1", "all", "all", "A1", "all", "A2", "A1", "all"]


def test_a_subscription_stopped_during_a_delivery_gets_no_more_records() -> None:
    broker = FakeBroker()
    seen: list[bytes | None] = []
    stops: list[Subscription] = []
    broker.subscribe("t", None, lambda r: stops[0].stop() if r.value == b"2" else None)
    stops.append(broker.subscribe("t", None, lambda r: seen.append(r.value)))
    broker.produce("t", "A", b"1")
    broker.produce("t", "A", b"2")  # stopped by the first subscriber, before its turn
    broker.produce("t", "A", b"3")
    assert seen == [b"1"]


def test_listeners_see_every_topic_until_removed() -> None:
    broker = FakeBroker()
    seen: list[str] = []
    remove = broker.add_listener(lambda r: seen.append(r.topic))
    broker.produce("t", "A", b"1")
    broker.produce("u", None, b"2")
    remove()
    remove()
    broker.produce("t", "A", b"3")
    assert seen == ["t", "u"]


def test_on_failure_gets_only_failed_records() -> None:
    broker = FakeBroker()
    failed: list[DeliveryReport] = []
    acked: list[DeliveryReport] = []
    broker.fail_next(1, reason="disk full")
    broker.produce("t", "A", b"1", acked.append, on_failure=failed.append)
    broker.produce("t", "A", b"2", acked.append, on_failure=failed.append)
    assert [(r.record.value, r.error) for r in failed] == [(b"1", "disk full")]
    assert [(r.record.value, r.error) for r in acked] == [(b"1", "disk full"), (b"2", None)]


def test_keys_keep_their_partition_past_the_partition_cache() -> None:
    broker = FakeBroker(default_partitions=7)
    for n in range(70_000):
        broker.produce("t", f"k{n}", None)
    broker.produce("t", "k3", b"again")
    again = broker.records("t", "k3")
    assert again[0].partition == again[1].partition == partition_for(b"k3", 7)
