"""The wire layer's fast paths must give exactly what the plain reference gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from openfactory.testing import VirtualClock
from openfactory.transport import Record, new_record
from openfactory.transport.wire import (
    ATTRIBUTE_TYPES,
    asset_record,
    format_timestamp,
    stamped_record,
)


def reference_record(attr_id: Any, value: Any, tag: Any, type_: Any, timestamp: Any) -> bytes:
    """What the platform's producers write: json.dumps of the record, UTF-8."""
    record = {
        "ID": attr_id,
        "VALUE": value,
        "TAG": tag,
        "TYPE": type_,
        "attributes": {"timestamp": timestamp},
    }
    return json.dumps(record).encode("utf-8")


def reference_timestamp(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    attr_id=st.text(min_size=1),
    value=json_values,
    tag=st.text(),
    type_=st.sampled_from(sorted(ATTRIBUTE_TYPES)),
    timestamp=st.text(),
)
def test_asset_record_is_byte_for_byte_json_dumps(
    attr_id: str, value: Any, tag: str, type_: str, timestamp: str
) -> None:
    expected = reference_record(attr_id, value, tag, type_, timestamp)
    assert asset_record(attr_id, value, tag, type_, timestamp) == expected
    # the second time through, the cached frame of (id, tag, type) is used
    assert asset_record(attr_id, value, tag, type_, timestamp) == expected


@given(
    attr_id=st.text(min_size=1),
    value=json_values,
    tag=st.text(),
    type_=st.sampled_from(sorted(ATTRIBUTE_TYPES)),
    advance_ms=st.integers(min_value=0, max_value=2500),
)
def test_stamped_record_is_the_record_of_format_timestamp_now(
    attr_id: str, value: Any, tag: str, type_: str, advance_ms: int
) -> None:
    with VirtualClock("2026-05-04T12:34:56.789Z") as clock:
        clock.advance(advance_ms / 1000)  # sometimes into another millisecond or second
        timestamp, record = stamped_record(attr_id, value, tag, type_)
        assert timestamp == format_timestamp()
        assert record == reference_record(attr_id, value, tag, type_, timestamp)
        # the second time through, the cached frame and timestamp are used
        assert stamped_record(attr_id, value, tag, type_) == (timestamp, record)


def test_a_timestamp_equal_to_the_last_one_stamped_is_encoded_as_any_other() -> None:
    with VirtualClock("2026-05-04T12:34:56.789Z"):
        stamped = format_timestamp()
        # the same text, another object: the cached JSON of the stamp is keyed by identity
        copy = "".join(list(stamped))
        for timestamp in (stamped, copy, "2026-05-04T12:34:56.790Z", ""):
            expected = reference_record("a", 1, "T", "Samples", timestamp)
            assert asset_record("a", 1, "T", "Samples", timestamp) == expected


class Reading(int):
    """An int subclass: json.dumps writes it as a number, and so must the fast path."""


def test_values_outside_the_fast_path_are_still_exact() -> None:
    for value in (Reading(7), (1, 2), float("nan"), float("-inf"), 10**100, {"a": [None]}):
        expected = reference_record("a", value, "T", "Samples", "2026-01-01T00:00:00.000Z")
        assert asset_record("a", value, "T", "Samples", "2026-01-01T00:00:00.000Z") == expected


def test_non_string_fields_are_encoded_as_json_dumps_would() -> None:
    assert asset_record(1, 2, 3, 4, 5) == reference_record(1, 2, 3, 4, 5)  # type: ignore[arg-type]


# A day in from the ends of datetime's range, so converting to UTC cannot overflow.
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.none() | st.timezones(),
)


@given(st.lists(moments, min_size=1, max_size=20))
def test_format_timestamp_matches_strftime_across_seconds(moments: list[datetime]) -> None:
    for moment in moments:  # consecutive calls exercise the per-second cache both ways
        assert format_timestamp(moment) == reference_timestamp(moment)


def test_format_timestamp_truncates_to_milliseconds_and_converts_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 5, 4, 14, 34, 56, 789999, plus_two)) == (
        "2026-05-04T12:34:56.789Z"
    )
    assert format_timestamp(datetime(999, 1, 2, 3, 4, 5, 6000)) == "0999-01-02T03:04:05.006Z"


def test_format_timestamp_of_now_follows_the_virtual_clock_exactly() -> None:
    with VirtualClock("2026-01-01T00:00:59.999999Z") as clock:
        assert format_timestamp() == "2026-01-01T00:00:59.999Z"
        clock.advance(0.001001)  # into the next second: a new cached prefix
        assert format_timestamp() == "2026-01-01T00:01:00.001Z"
    with VirtualClock("2027-01-01T00:00:59.001Z"):  # same second of the minute, a year later
        assert format_timestamp() == "2027-01-01T00:00:59.001Z"


def test_format_timestamp_of_now_reads_the_real_clock_when_time_is_not_frozen() -> None:
    for _ in range(1000):  # long enough to cross a millisecond, sometimes a second
        before = reference_timestamp(datetime.now(UTC))
        stamp = format_timestamp()
        assert before <= stamp <= reference_timestamp(datetime.now(UTC))


def test_new_record_is_the_record_the_constructor_builds() -> None:
    fast = new_record("ofa_assets", "PUMP-1", b'{"ID": "x"}', 2, 41, 1767225600000)
    slow = Record("ofa_assets", "PUMP-1", b'{"ID": "x"}', 2, 41, 1767225600000)
    assert fast == slow and repr(fast) == repr(slow) and hash(fast) == hash(slow)
    assert fast.json() == {"ID": "x"} and fast.json() is fast.json()  # decoded once
    assert new_record("t", None, None, 0, 0, 0).is_tombstone
