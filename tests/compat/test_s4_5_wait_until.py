"""Reference section 4.5 (and section 11, items 15 and 16): ``wait_until`` in the 0.5.3 form
``(id, value, timeout=30, use_ksqlDB=False)`` and the 0.6.6 form ``(id, value, comparison=eq,
*, timeout=30, use_ksqlDB=False)``, decided by the third argument's type."""

from __future__ import annotations

import operator
import threading
from typing import Any

import pytest
from recording_ksqldb import RecordingKSQLDB

from openfactory.assets import Asset
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
PUMP = "PUMP-001"


def publish(ksql: FakeKSQLDB, attr: str, value: Any, tag: str = "T", type_: str = "Events") -> None:
    ksql.broker.produce("ofa_assets", PUMP, asset_record(attr, value, tag, type_, TS))


@pytest.fixture
def ksql() -> RecordingKSQLDB:
    ksql = RecordingKSQLDB()
    publish(ksql, "status", "idle")
    publish(ksql, "temp", 21.5, "Temperature", "Samples")
    return ksql


def test_true_at_once_when_the_value_is_there(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    assert asset.wait_until("status", "idle")
    assert asset.wait_until("status", "idle", 0)  # 0.5.3: the third argument is the timeout
    assert asset.wait_until("status", "idle", timeout=0)


def test_the_053_positional_timeout_and_use_ksqldb(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    assert not asset.wait_until("status", "busy", 0.01)
    assert not asset.wait_until("status", "busy", 0)
    assert asset.wait_until("status", "idle", 1, True)
    assert not asset.wait_until("status", "busy", 0.01, True)


def test_the_066_comparison_comes_third_and_gets_the_current_value_first(
    ksql: FakeKSQLDB,
) -> None:
    asset = Asset(PUMP, ksql)
    assert asset.wait_until("temp", 20, operator.gt, timeout=0)
    assert not asset.wait_until("temp", 20, operator.lt, timeout=0)
    seen: list[tuple[Any, Any]] = []
    asset.wait_until("temp", 20, lambda a, b: seen.append((a, b)) or True)
    assert seen == [(21.5, 20)]
    assert asset.wait_until("temp", 21.5, comparison=operator.eq, timeout=1, use_ksqlDB=True)


@pytest.mark.parametrize("third", ["5", True, None, [5]])
def test_any_other_third_argument_is_a_type_error_pointing_at_timeout(
    ksql: FakeKSQLDB, third: object
) -> None:
    with pytest.raises(TypeError, match=r"timeout=<x>"):
        Asset(PUMP, ksql).wait_until("status", "idle", third)  # type: ignore[arg-type]


def test_an_unknown_attribute_waits_and_ends_false(ksql: FakeKSQLDB) -> None:
    # 0.5.3 wins over 0.6.6's OFAException: waiting for an attribute not published yet.
    asset = Asset(PUMP, ksql)
    assert not asset.wait_until("not_yet", "ready", timeout=0.01)
    assert not asset.wait_until("not_yet", "ready", 0.01, True)
    threading.Thread(target=publish, args=(ksql, "not_yet", "ready")).start()
    assert asset.wait_until("not_yet", "ready", timeout=5)


def test_samples_published_as_text_compare_as_floats(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    publish(ksql, "temp", "5", "Temperature", "Samples")
    assert asset.wait_until("temp", 5.0, timeout=0)
    assert asset.wait_until("temp", 5, timeout=0)
    assert asset.wait_until("temp", 5, timeout=1, use_ksqlDB=True)


def test_use_ksqldb_polls_the_documented_statement(ksql: RecordingKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    assert asset.wait_until("status", "idle", timeout=1, use_ksqlDB=True)
    assert ksql.queries[-1] == (
        f"SELECT VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE key='{PUMP}|status';"
    )


def test_no_wake_up_is_lost(ksql: FakeKSQLDB) -> None:
    # Section 11, item 16: an update landing while the waiter starts is never missed.
    asset = Asset(PUMP, ksql)
    for count in range(200):
        writer = threading.Thread(target=publish, args=(ksql, "count", count))
        writer.start()
        assert asset.wait_until("count", count, timeout=10)
        writer.join()
