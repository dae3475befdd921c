"""Reference section 4.2: reading an asset (attributes by name, ``attributes()``, ``samples()``,
``events()``, ``conditions()``, ``methods()``, ``type``, 0.6.6 ``ofa_attributes``,
``ofa_methods`` and ``resync_state()``), on records published as the platform publishes them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from recording_ksqldb import RecordingKSQLDB

from openfactory.assets import Asset, AssetAttribute
from openfactory.kafka import KSQLDBClient
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
PUMP = "PUMP-001"
CONTRACT = {"description": "Move", "arguments": [{"name": "x", "description": "X"}]}


def publish(ksql: FakeKSQLDB, attr: str, value: Any, tag: str, type_: str) -> None:
    ksql.broker.produce("ofa_assets", PUMP, asset_record(attr, value, tag, type_, TS))


@pytest.fixture
def ksql() -> RecordingKSQLDB:
    """A deployment holding an app as the platform's deployer and library publish it."""
    ksql = RecordingKSQLDB()
    for attr, value, tag, type_ in [
        ("AssetType", "OpenFactoryApp", "AssetType", "OpenFactory"),
        ("DockerService", "pump-001", "DockerService", "OpenFactory"),
        ("references_above", "", "AssetsReferences", "OpenFactory"),
        ("temp", "21.5", "Temperature", "Samples"),  # devices publish samples as text
        ("rpm", 1200, "Speed", "Samples"),
        ("label", "n/a", "Label", "Samples"),
        ("idle_sample", "UNAVAILABLE", "Idle", "Samples"),
        ("pos", "12.5", "{urn:mtconnect.org:MTConnectStreams:2.0}Position", "Samples"),
        ("status", "idle", "App.Status", "Events"),
        ("alarm", "Normal", "{urn:x}Alarm {urn:y}", "Condition"),
        ("move_axis", json.dumps(CONTRACT), "Method", "Method"),
        ("reset", "not json", "Method", "Method"),
        ("halt", None, "Method", "Method"),
        ("move_axis_CMD", "", "Method.Command", "OpenFactory"),
    ]:
        publish(ksql, attr, value, tag, type_)
    return ksql


def test_an_attribute_reads_as_an_asset_attribute(ksql: FakeKSQLDB) -> None:
    status = Asset(PUMP, ksql).status
    assert status == AssetAttribute(id="status", value="idle", type="Events", tag="App.Status",
                                    timestamp=TS)  # fmt: skip


def test_samples_read_as_float_when_numeric(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)  # loaded from ksqlDB, where VALUE is text
    assert (asset.temp.value, asset.rpm.value) == (21.5, 1200.0)
    assert (asset.label.value, asset.idle_sample.value) == ("n/a", "UNAVAILABLE")
    publish(ksql, "temp", "22.5", "Temperature", "Samples")  # and received live
    publish(ksql, "label", "n/a again", "Label", "Samples")
    assert (asset.temp.value, asset.label.value) == (22.5, "n/a again")
    asset.temp = "23"  # written by this view, published as given
    assert asset.temp.value == 23.0
    assert json.loads(ksql.broker.records("ofa_assets", PUMP)[-1].value or b"")["VALUE"] == "23"


def test_an_unknown_attribute_reads_unavailable_in_every_field(ksql: FakeKSQLDB) -> None:
    expected = AssetAttribute(id="nope", value="UNAVAILABLE", type="UNAVAILABLE",
                              tag="UNAVAILABLE", timestamp="UNAVAILABLE")  # fmt: skip
    assert Asset(PUMP, ksql).nope == expected
    # Test mode reads the same (0.5.3 gave None there: section 11, item 18).
    in_test_mode = Asset("NOBODY", KSQLDBClient("http://127.0.0.1:1"), test_mode=True)
    assert in_test_mode.nope == expected


def test_a_method_reads_as_a_caller(ksql: FakeKSQLDB) -> None:
    caller = Asset(PUMP, ksql).move_axis
    assert callable(caller) and caller.__name__ == "move_axis"


def test_attributes_lists_every_non_method_id(ksql: FakeKSQLDB) -> None:
    assert sorted(Asset(PUMP, ksql).attributes()) == sorted([
        "AssetType", "DockerService", "references_above", "temp", "rpm", "label", "idle_sample",
        "pos", "status", "alarm", "move_axis_CMD",
    ])  # fmt: skip


def test_typed_lists_give_id_value_and_tag_without_namespaces(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    assert sorted(asset.samples(), key=lambda s: s["ID"]) == [
        {"ID": "idle_sample", "VALUE": "UNAVAILABLE", "TAG": "Idle"},
        {"ID": "label", "VALUE": "n/a", "TAG": "Label"},
        {"ID": "pos", "VALUE": 12.5, "TAG": "Position"},
        {"ID": "rpm", "VALUE": 1200.0, "TAG": "Speed"},
        {"ID": "temp", "VALUE": 21.5, "TAG": "Temperature"},
    ]
    assert asset.events() == [{"ID": "status", "VALUE": "idle", "TAG": "App.Status"}]
    assert asset.conditions() == [{"ID": "alarm", "VALUE": "Normal", "TAG": "Alarm"}]


def test_methods_parse_contracts_and_keep_what_is_not_json(ksql: FakeKSQLDB) -> None:
    expected = {"move_axis": CONTRACT, "reset": "not json", "halt": None}
    asset = Asset(PUMP, ksql)
    assert asset.methods() == expected
    assert asset.ofa_methods == expected


def test_type_is_the_asset_type_asked_on_every_read(ksql: RecordingKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    assert asset.type == "OpenFactoryApp"
    publish(ksql, "AssetType", "Device", "AssetType", "OpenFactory")
    assert asset.type == "Device"
    statement = f"SELECT TYPE FROM assets_type WHERE ASSET_UUID='{PUMP}';"
    assert ksql.queries.count(statement) == 2
    assert Asset("NOBODY", ksql).type == "UNAVAILABLE"


def test_ofa_attributes_holds_every_attribute_but_the_methods(ksql: FakeKSQLDB) -> None:
    attributes = Asset(PUMP, ksql).ofa_attributes
    assert sorted(attributes) == sorted(Asset(PUMP, ksql).attributes())
    assert attributes["temp"] == AssetAttribute(id="temp", value=21.5, type="Samples",
                                                tag="Temperature", timestamp=TS)  # fmt: skip


def test_resync_state_reloads_what_the_view_missed(ksql: RecordingKSQLDB) -> None:
    ksql.fail_next_queries(1)
    late = Asset(PUMP, ksql)  # its first query failed: it knows nothing yet
    assert late.attributes() == []
    late.resync_state()
    assert late.status.value == "idle" and "move_axis" in late.methods()
    assert ksql.queries[-1] == (
        f"SELECT ID, VALUE, TYPE, TAG, TIMESTAMP FROM assets WHERE asset_uuid='{PUMP}';"
    )


def test_resync_state_overwrites_and_never_removes(ksql: FakeKSQLDB) -> None:
    asset = Asset(PUMP, ksql)
    ksql.stop()  # ksqlDB stops materializing: it keeps status 'idle' and never sees 'local'
    asset.status = "busy"
    asset.add_attribute(AssetAttribute(id="local", value="x", type="Events", tag="Local"))
    asset.resync_state()
    assert (asset.status.value, asset.local.value) == ("idle", "x")
