"""Reference section 4.4 (and section 11, items 8, 17 and 23): assigning attributes,
``add_attribute`` in both forms, and references (``add_reference_*``, ``references_*`` and the
0.6.6 ``get_references_*`` names)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openfactory.assets import Asset, AssetAttribute
from openfactory.backends import override_transport
from openfactory.errors import ConfigurationError, TransportError
from openfactory.exceptions import OFAException
from openfactory.kafka import KSQLDBClient
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
PUMP = "PUMP-001"
CONTRACT = json.dumps({"description": "Move", "arguments": []})


def published(ksql: FakeKSQLDB, asset: str = PUMP) -> list[dict[str, Any]]:
    return [json.loads(r.value or b"") for r in ksql.broker.records("ofa_assets", asset)]


def record(value: dict[str, Any]) -> tuple[Any, ...]:
    return value["ID"], value["VALUE"], value["TAG"], value["TYPE"]


@pytest.fixture
def ksql() -> FakeKSQLDB:
    ksql = FakeKSQLDB()
    for attr, value, tag, type_ in [
        ("status", "idle", "App.Status", "Events"),
        ("move_axis", CONTRACT, "Method", "Method"),
    ]:
        ksql.broker.produce("ofa_assets", PUMP, asset_record(attr, value, tag, type_, TS))
    return ksql


# assignment ---------------------------------------------------------------------------------
def test_assigning_an_attribute_publishes_on_the_assets_key(ksql: FakeKSQLDB) -> None:
    Asset(PUMP, ksql).status = "busy"  # a remote write: the record goes on PUMP's key
    assert record(published(ksql)[-1]) == ("status", "busy", "App.Status", "Events")
    assert Asset(PUMP, ksql).status.value == "busy"


def test_assigning_a_method_raises_and_publishes_nothing(ksql: FakeKSQLDB) -> None:
    asset, before = Asset(PUMP, ksql), len(published(ksql))
    with pytest.raises(OFAException, match=r"^move_axis is an Asset method\. It can not be"):
        asset.move_axis = 3
    with pytest.raises(OFAException):
        asset.move_axis = AssetAttribute(id="move_axis", value=1, type="Events", tag="T")
    assert len(published(ksql)) == before and callable(asset.move_axis)


def test_an_asset_attribute_for_an_unknown_name_raises(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    with pytest.raises(OFAException, match="add_attribute"):
        asset.speed = AssetAttribute(id="speed", value=3, type="Samples", tag="Speed")
    asset.helper = 3  # any other value is a plain Python attribute
    assert asset.helper == 3 and "helper" not in asset.attributes()


def test_an_asset_attribute_is_published_as_given_when_its_id_matches(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    asset.status = AssetAttribute(id="status", value="done", type="Condition", tag="S",
                                  timestamp=TS)  # fmt: skip
    assert published(ksql)[-1] == {"ID": "status", "VALUE": "done", "TAG": "S",
                                   "TYPE": "Condition",
                                   "attributes": {"timestamp": TS}}  # fmt: skip
    with pytest.raises(OFAException, match="'other' does not match"):
        asset.status = AssetAttribute(id="other", value="x", type="Events", tag="S")


def test_assignments_are_decided_from_local_state_without_ksqldb() -> None:
    # Section 11, item 8: an attribute added a moment ago is published even before ksqlDB
    # has it (0.5.3 consulted ksqlDB and silently made a Python attribute).
    ksql = FakeKSQLDB()
    asset = Asset("APP-1", ksql)
    ksql.take_down()
    asset.add_attribute(AssetAttribute(id="avail", value="UNAVAILABLE", type="Events",
                                       tag="Availability"))  # fmt: skip
    asset.avail = "AVAILABLE"
    assert record(published(ksql, "APP-1")[-1]) == ("avail", "AVAILABLE", "Availability", "Events")


# add_attribute --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "add",
    [
        lambda asset, attr: asset.add_attribute(attr),
        lambda asset, attr: asset.add_attribute(attr, False),
        lambda asset, attr: asset.add_attribute(attr, wait_to_become_available=True),
        lambda asset, attr: asset.add_attribute(asset_attribute=attr),
        lambda asset, attr: asset.add_attribute("temp", attr),  # this SDK's form
        lambda asset, attr: asset.add_attribute(attribute_id="temp", asset_attribute=attr),
    ],
)
def test_add_attribute_in_every_form(add, ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    given = AssetAttribute(id="temp", value=21.5, type="Samples", tag="Temperature", timestamp=TS)
    add(asset, given)
    assert published(ksql)[-1] == {"ID": "temp", "VALUE": 21.5, "TAG": "Temperature",
                                   "TYPE": "Samples", "attributes": {"timestamp": TS}}  # fmt: skip
    assert asset.temp == given and asset.temp is not given


def test_add_attribute_needs_an_id(ksql: FakeKSQLDB) -> None:
    with pytest.raises(ConfigurationError, match=r"AssetAttribute\(id='temp'"):
        Asset(PUMP, ksql).add_attribute(AssetAttribute(21.5, "Samples", "Temperature"))


def test_waiting_to_become_available_returns_at_once() -> None:
    # Section 11, item 17: never blocks, even with ksqlDB unreachable.
    ksql = FakeKSQLDB()
    asset = Asset("APP-1", ksql)
    ksql.take_down()
    asset.add_attribute(AssetAttribute(id="temp", value=1, type="Samples", tag="T"), True)
    assert asset.temp.value == 1


# references -----------------------------------------------------------------------------------
def test_add_reference_puts_the_newest_first_without_deduplicating(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    asset.add_reference_above("LINE-1")
    asset.add_reference_above("LINE-2")
    asset.add_reference_above("LINE-1")
    asset.add_reference_below("PROBE-1")
    above = [v for v in published(ksql) if v["ID"] == "references_above"]
    assert [record(v) for v in above] == [
        ("references_above", "LINE-1", "AssetsReferences", "OpenFactory"),
        ("references_above", "LINE-2, LINE-1", "AssetsReferences", "OpenFactory"),
        ("references_above", "LINE-1, LINE-2, LINE-1", "AssetsReferences", "OpenFactory"),
    ]
    assert asset.references_above_uuid() == asset.get_references_above_uuid() == [
        "LINE-1", "LINE-2", "LINE-1",
    ]  # fmt: skip
    assert asset.references_below_uuid() == asset.get_references_below_uuid() == ["PROBE-1"]
    for views in (asset.references_below(), asset.get_references_below()):
        assert [type(v) for v in views] == [Asset] and views[0].asset_uuid == "PROBE-1"
    assert [v.asset_uuid for v in asset.get_references_above()] == ["LINE-1", "LINE-2", "LINE-1"]


def test_references_read_what_the_platform_wrote(ksql: FakeKSQLDB) -> None:
    value = asset_record("references_below", " A ,B,, C", "AssetsReferences", "OpenFactory", TS)
    ksql.broker.produce("ofa_assets", PUMP, value)
    asset = Asset(PUMP, ksql)
    assert asset.references_below_uuid() == ["A", "B", "C"]
    assert asset.references_above_uuid() == asset.references_above() == []
    asset.add_reference_below("D")
    assert published(ksql)[-1]["VALUE"] == "D, A, B, C"


def test_reference_views_run_on_the_parents_transport() -> None:
    # Section 11, item 23: upstream built them from the client alone, leaving test mode.
    fake = FakeKSQLDB()
    with override_transport(lambda _client, _servers: fake.open_transport()):
        parent = Asset(PUMP, KSQLDBClient("http://127.0.0.1:1"), "broker:9092", "http://r:1")
    parent.add_reference_above("LINE-1")
    [line] = parent.references_above()  # built after the override ended: still in memory
    assert (line.ksql, line.bootstrap_servers, line.asset_router_url, line.test_mode) == (
        parent.ksql, "broker:9092", "http://r:1", False,
    )  # fmt: skip
    line.add_attribute(AssetAttribute(id="speed", value=3, type="Samples", tag="Speed"))
    assert published(fake, "LINE-1")[-1]["ID"] == "speed"
    line.close()  # closing the view leaves the parent's transport open
    parent.add_attribute(AssetAttribute(id="status", value="x", type="Events", tag="S"))
    assert published(fake)[-1]["ID"] == "status"
    with pytest.raises(TransportError, match="closed"):
        line.add_attribute(AssetAttribute(id="speed", value=4, type="Samples", tag="Speed"))


def test_reference_views_keep_test_mode() -> None:
    parent = Asset(PUMP, KSQLDBClient("http://127.0.0.1:1"), test_mode=True)
    parent.add_reference_below("PROBE-1")
    [probe] = parent.references_below()
    assert probe.test_mode and probe.transport.inline_delivery


def test_ids_that_utf8_cannot_encode_are_refused_by_name(ofa_ksqldb) -> None:
    with pytest.raises(ConfigurationError, match=r"asset_uuid .* cannot be encoded as UTF-8"):
        Asset("bad-\udcff-uuid", ofa_ksqldb)
    asset = Asset("GOOD", ofa_ksqldb)
    try:
        with pytest.raises(ConfigurationError, match=r"attribute_id .* cannot be encoded"):
            asset.add_attribute("temp\ud800", AssetAttribute(1, "Samples", "T"))
    finally:
        asset.close()
