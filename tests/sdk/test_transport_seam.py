"""The parts of the transport seam every implementation shares: failure bookkeeping, the
argument checks, and the names that moved out of ``openfactory.transport.base``."""

from __future__ import annotations

import pytest

from openfactory.errors import TransportError
from openfactory.testing import FakeBroker, FakeKSQLDB, InMemoryTransport
from openfactory.transport import (
    DeliveryReport,
    FlushResult,
    Record,
    Transport,
    check_publish,
    check_subscribe,
    records,
    wire,
)
from openfactory.transport.wire import attribute_id_of


def test_failures_keep_a_count_and_only_the_last_ones() -> None:
    broker = FakeBroker()
    transport = InMemoryTransport(broker, FakeKSQLDB(broker))
    total = Transport.failures_kept + 30
    broker.fail_next(total, reason="disk full")
    for n in range(total):
        transport.publish("t", "k", b"%d" % n)
    result = transport.flush(1)
    assert transport.failure_count == total == result.failure_count
    kept = [int(report.record.value or b"") for report in transport.failures]
    assert kept == list(range(30, total))
    assert result.failures == transport.failures and not result.ok
    assert all(report.error == "disk full" for report in result.failures)
    transport.publish("t", "k", b"delivered")
    assert transport.flush(1).failure_count == total


def test_a_flush_result_given_only_failures_counts_them() -> None:
    failed = DeliveryReport(Record("t", "k", b"{}"), "timed out")
    assert FlushResult(0, [failed]).failure_count == 1
    assert not FlushResult(0, [failed]).ok
    assert not FlushResult(0, [], failure_count=3).ok
    assert FlushResult().ok


def test_check_publish_passes_the_common_case_through_and_copies_a_bytearray() -> None:
    value = b'{"ID": "x"}'
    assert check_publish("t", "k", value, None, False) is value
    copied = check_publish("t", "k", bytearray(b"abc"), print, False)
    assert type(copied) is bytes and copied == b"abc"
    assert check_publish("t", "k", None, None, False) is None


@pytest.mark.parametrize(
    ("topic", "key", "value", "on_delivery", "closed", "message"),
    [
        ("t", "k", b"v", None, True, "cannot publish to 't': the transport is closed"),
        ("", "k", b"v", None, False, "topic must be a non-empty string, got ''"),
        ("t", 7, b"v", None, False, "record key must be a str"),
        ("t", "k", "text", None, False, "record value must be bytes .* got str"),
        ("t", "k", b"v", "nope", False, "on_delivery must be callable or None, got 'nope'"),
    ],
)
def test_check_publish_names_the_bad_argument(
    topic, key, value, on_delivery, closed, message
) -> None:
    with pytest.raises(TransportError, match=message):
        check_publish(topic, key, value, on_delivery, closed)


@pytest.mark.parametrize(
    ("topic", "key", "callback", "closed", "message"),
    [
        ("t", None, print, True, "cannot subscribe to 't': the transport is closed"),
        (None, None, print, False, "topic must be a non-empty string, got None"),
        ("t", b"k", print, False, "subscription key must be a str or None"),
        ("t", "k", 42, False, "callback must be callable, got 42"),
    ],
)
def test_check_subscribe_names_the_bad_argument(topic, key, callback, closed, message) -> None:
    with pytest.raises(TransportError, match=message):
        check_subscribe(topic, key, callback, closed)
    check_subscribe("t", None, print, False)


@pytest.mark.parametrize(
    ("value", "attribute_id"),
    [
        (b'{"ID": "temperature", "VALUE": 1}', "temperature"),
        (None, None),
        (b"not json", None),
        (b"[1, 2]", None),
        (b'{"VALUE": 1}', None),
    ],
)
def test_attribute_id_of_reads_the_asset_record_layout(
    value: bytes | None, attribute_id: str | None
) -> None:
    assert attribute_id_of(value) == attribute_id


@pytest.mark.parametrize(
    ("name", "home"),
    [("Record", records), ("new_record", records), ("attribute_id_of", wire)],
)
def test_moved_names_still_import_from_base_with_a_warning(name: str, home: object) -> None:
    from openfactory.transport import base

    with pytest.warns(DeprecationWarning, match="moved to openfactory.transport"):
        assert getattr(base, name) is getattr(home, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        base.nothing_here  # noqa: B018
