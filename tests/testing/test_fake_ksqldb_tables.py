"""The fake ksqlDB's tables are what reading every record at once gives, however the records are
taken in (noted and read when a query needs them, or read at once), and look-ups by key or by
asset find exactly the rows a scan would."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfactory.testing import FakeBroker, FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
TABLES = ("assets", "assets_type", "assets_avail", "docker_services")

GARBAGE = [
    ("A", b'{"ID": "x", "VALUE": nope, "TAG": "T", "TYPE": "Events", "attributes": {}}'),
    ("A", b'{"ID": "x", "VALUE": 1'),
    ("B", None),
    ("C", b"\xff"),
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.one_of(scalars, st.dictionaries(st.sampled_from("ab"), scalars, max_size=2))
attribute_ids = st.sampled_from(["x", "y", "avail", "agent_avail", "AssetType", "DockerService"])
# An asset record as the SDK writes it, another layout of the same fields, or something ksqlDB
# cannot read as an asset record.
records = st.one_of(
    st.tuples(
        st.sampled_from(["A", "B"]),
        attribute_ids,
        st.one_of(values, st.sampled_from(["AVAILABLE", "UNAVAILABLE", "delete"])),
        st.sampled_from(["Events", "OpenFactory", "Samples"]),
    ).map(lambda r: (r[0], asset_record(r[1], r[2], "T", r[3], TS))),
    st.tuples(st.sampled_from(["A", "B"]), attribute_ids, scalars).map(
        lambda r: (r[0], json.dumps({"VALUE": r[2], "id": r[1], "TYPE": "Events"}).encode())
    ),
    st.sampled_from(GARBAGE),
)


def tables(fake: FakeKSQLDB) -> dict[str, list[dict[str, Any]]]:
    return {table: fake.query(f"SELECT * FROM {table};") for table in TABLES}


@settings(max_examples=150, deadline=None)
@given(st.lists(records, max_size=25))
def test_tables_are_the_same_whether_records_are_read_at_once_or_when_queried(
    published: list[tuple[str, bytes | None]],
) -> None:
    eager, lazy = FakeKSQLDB(), FakeKSQLDB()
    logging.disable(logging.WARNING)  # the garbage records are logged; not the point here
    try:
        for key, value in published:
            eager.broker.produce("ofa_assets", key, value)
            tables(eager)  # a query after each record: every record is read before the next
            lazy.broker.produce("ofa_assets", key, value)
        assert tables(lazy) == tables(eager)
    finally:
        logging.disable(logging.NOTSET)


@settings(max_examples=60, deadline=None)
@given(st.lists(records, max_size=25), st.sampled_from(["A", "B", "C", "D"]))
def test_look_ups_by_key_and_by_asset_find_what_a_scan_finds(
    published: list[tuple[str, bytes | None]], asset: str
) -> None:
    fake = FakeKSQLDB()
    logging.disable(logging.WARNING)
    try:
        for key, value in published:
            fake.broker.produce("ofa_assets", key, value)
        every = fake.query("SELECT * FROM assets;")
        mine = [row for row in every if row["ASSET_UUID"] == asset]
        assert fake.query(f"SELECT * FROM assets WHERE ASSET_UUID='{asset}';") == mine
        assert fake.query(f"SELECT * FROM assets WHERE ASSET_UUID!='{asset}';") == [
            row for row in every if row["ASSET_UUID"] != asset
        ]
        for row in mine:
            assert fake.query(f"SELECT * FROM assets WHERE KEY='{row['KEY']}';") == [row]
            both = f"ASSET_UUID='{asset}' AND ID='{row['ID']}'"
            assert fake.query(f"SELECT * FROM assets WHERE {both};") == [row]
        avail = fake.query("SELECT * FROM assets_avail;")
        assert fake.query(f"SELECT * FROM assets_avail WHERE ASSET_UUID='{asset}';") == [
            row for row in avail if row["ASSET_UUID"] == asset
        ]
    finally:
        logging.disable(logging.NOTSET)


def test_a_record_that_looks_like_the_sdks_but_is_not_json_is_logged_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeKSQLDB()
    fake.broker.produce("ofa_assets", "A", asset_record("x", 1, "T", "Events", TS))
    bad = b'{"ID": "x", "VALUE": 1 2, "TAG": "T", "TYPE": "Events", "attributes": {}}'
    with caplog.at_level(logging.WARNING, logger="openfactory.testing.memory.ksqldb"):
        fake.broker.produce("ofa_assets", "A", bad)
    assert "ignoring" in caplog.text
    assert fake.query("SELECT VALUE FROM assets WHERE KEY='A|x';") == [{"VALUE": "1"}]


def test_only_the_latest_value_of_an_attribute_is_read() -> None:
    fake = FakeKSQLDB()
    for n in range(1_000):
        fake.broker.produce("ofa_assets", "A", asset_record("x", n, "T", "Samples", TS))
    assert repr(fake).startswith("FakeKSQLDB(ASSETS=1,")
    assert fake.query("SELECT VALUE FROM assets WHERE KEY='A|x';") == [{"VALUE": "999"}]


def test_several_partitions_and_records_replayed_at_start() -> None:
    broker = FakeBroker()
    broker.create_topic("ofa_assets", 3)
    for n in range(30):
        broker.produce("ofa_assets", f"A{n % 5}", asset_record("x", n, "T", "Samples", TS))
    fake = FakeKSQLDB(broker, assets_partitions=3)
    for n in range(30, 40):
        broker.produce("ofa_assets", f"A{n % 5}", asset_record("x", n, "T", "Samples", TS))
    rows = fake.query("SELECT ASSET_UUID, VALUE FROM assets;")
    assert sorted((r["ASSET_UUID"], r["VALUE"]) for r in rows) == [
        (f"A{k}", str(35 + k)) for k in range(5)
    ]


def test_availability_follows_the_last_of_avail_and_agent_avail() -> None:
    fake = FakeKSQLDB()
    for attr, value in (("avail", "AVAILABLE"), ("agent_avail", "UNAVAILABLE"), ("x", 1)):
        fake.broker.produce("ofa_assets", "A", asset_record(attr, value, "T", "Events", TS))
    fake.broker.produce("ofa_assets", "A", asset_record("avail", "AVAILABLE", "T", "Events", TS))
    assert fake.query("SELECT AVAILABILITY FROM assets_avail;") == [{"AVAILABILITY": "AVAILABLE"}]
    assert [row["ID"] for row in fake.query("SELECT ID FROM assets;")] == [
        "avail",
        "agent_avail",
        "x",
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=6),
    st.one_of(scalars, st.text(st.characters(codec="utf-8"), max_size=12)),
    st.text(max_size=8),
    st.sampled_from(["Events", "Samples", "Method", "avail"]),
    st.sampled_from(["x", "avail", "AssetType"]),
)
def test_a_record_in_the_sdks_layout_reads_as_the_same_record_in_another_layout(
    text_id: str, value: Any, tag: str, type_: str, attribute_id: str
) -> None:
    # The SDK's layout is read from the text of its fields, anything else through json.loads:
    # both must give the same row, escapes, non-ASCII text and numbers included.
    for id_ in (text_id, attribute_id):
        fake = FakeKSQLDB()
        fields = {"ID": id_, "VALUE": value, "TAG": tag, "TYPE": type_}
        other = json.dumps({**fields, "attributes": {"timestamp": TS}}, separators=(",", ":"))
        fake.broker.produce("ofa_assets", "SDK", asset_record(id_, value, tag, type_, TS))
        fake.broker.produce("ofa_assets", "OTHER", other.encode())
        rows = fake.query("SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM assets;")
        assert len(rows) == 2
        assert rows[0] == rows[1]
