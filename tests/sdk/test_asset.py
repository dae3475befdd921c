"""``Asset``: any asset's state, read from ksqlDB and kept current from the broker."""

from __future__ import annotations

import threading

import pytest

from openfactory.assets import Asset, AssetAttribute
from openfactory.errors import CommandError, ConfigurationError
from openfactory.testing import FakeKSQLDB
from openfactory.transport import Record
from openfactory.transport.wire import parse_timestamp


@pytest.fixture
def sensor(ofa_ksqldb: FakeKSQLDB) -> Asset:
    asset = Asset("SENSOR-1", ofa_ksqldb)
    asset.add_attribute("temp", AssetAttribute(21.5, "Samples", "Temperature"))
    asset.add_attribute("mode", AssetAttribute("auto", "Events", "Mode"))
    asset.add_attribute("alarm", AssetAttribute("Normal", "Condition", "Alarm"))
    return asset


def test_attribute_type_is_validated() -> None:
    with pytest.raises(ConfigurationError, match=r"'Sample'.*Samples"):
        AssetAttribute(1, type="Sample")


def test_default_timestamp_is_wire_format() -> None:
    stamp = AssetAttribute(1).timestamp
    assert stamp.endswith("Z") and len(stamp) == len("2026-05-04T12:34:56.789Z")
    parse_timestamp(stamp)


def test_bad_asset_uuid_is_rejected(ofa_ksqldb: FakeKSQLDB) -> None:
    with pytest.raises(ConfigurationError, match="asset_uuid"):
        Asset("", ofa_ksqldb)


def test_state_is_loaded_from_ksqldb_by_another_view(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    view = Asset("SENSOR-1", ofa_ksqldb)
    assert view.temp.value == 21.5
    assert view.temp.type == "Samples" and view.temp.tag == "Temperature"
    assert view.mode.value == "auto"
    assert sorted(view.attributes()) == ["alarm", "mode", "temp"]


def test_unknown_attribute_reads_unavailable(sensor: Asset) -> None:
    missing = sensor.no_such_thing
    assert (missing.value, missing.type, missing.tag) == ("UNAVAILABLE",) * 3


def test_state_follows_the_broker(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    view = Asset("SENSOR-1", ofa_ksqldb)
    sensor.temp = 30.0  # assignment publishes, keeping type and tag
    assert view.temp.value == 30.0
    assert view.temp.tag == "Temperature"


def test_typed_views(sensor: Asset) -> None:
    # Reference 4.2: each entry has ID, VALUE and TAG.
    assert sensor.samples() == [{"ID": "temp", "VALUE": 21.5, "TAG": "Temperature"}]
    assert sensor.events() == [{"ID": "mode", "VALUE": "auto", "TAG": "Mode"}]
    assert sensor.conditions() == [{"ID": "alarm", "VALUE": "Normal", "TAG": "Alarm"}]
    assert sensor.methods() == {}


def test_plain_python_attributes_still_work(sensor: Asset) -> None:
    sensor.helper_value = 3
    assert sensor.helper_value == 3


def test_wait_until_sees_a_later_update(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    view = Asset("SENSOR-1", ofa_ksqldb)
    thread = threading.Thread(target=lambda: setattr(sensor, "mode", "manual"))
    thread.start()
    assert view.wait_until("mode", "manual", timeout=5)
    thread.join()
    assert view.wait_until("temp", 20, comparison=lambda a, b: a > b, timeout=0)
    assert not view.wait_until("mode", "never", timeout=0.01)
    assert view.wait_until("mode", "manual", timeout=1, use_ksqlDB=True)


def test_subscriptions_deliver_and_stop(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    seen: dict[str, list] = {"attr": [], "all": [], "samples": [], "events": [], "cond": []}
    view = Asset("SENSOR-1", ofa_ksqldb)
    view.subscribe_to_attribute("temp", lambda k, v: seen["attr"].append((k, v["VALUE"])))
    view.subscribe_to_messages(lambda k, v: seen["all"].append(v["ID"]))
    view.subscribe_to_samples(lambda k, v: seen["samples"].append(v["ID"]))
    view.subscribe_to_events(lambda k, v: seen["events"].append(v["ID"]))
    view.subscribe_to_conditions(lambda k, v: seen["cond"].append(v["ID"]))
    sensor.temp = 1.0
    sensor.mode = "off"
    sensor.alarm = "Fault"
    assert seen == {
        "attr": [("SENSOR-1.temp", 1.0)],  # reference 4.7: the subject is "<uuid>.<id>"
        "all": ["temp", "mode", "alarm"],
        "samples": ["temp"],
        "events": ["mode"],
        "cond": ["alarm"],
    }
    view.stop_attribute_subscription()
    view.stop_messages_subscription()
    view.stop_samples_subscription()
    view.stop_events_subscription()
    view.stop_conditions_subscription()
    sensor.temp = 2.0
    assert seen["attr"] == [("SENSOR-1.temp", 1.0)] and len(seen["all"]) == 3


def test_references(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    Asset("LINE-1", ofa_ksqldb)
    sensor.add_reference_above("LINE-1")
    sensor.add_reference_below("PROBE-1")
    sensor.add_reference_below("PROBE-2")
    # Reference 4.4: newest first, as the platform writes the list.
    assert sensor.references_above_uuid() == ["LINE-1"]
    assert sensor.references_below_uuid() == ["PROBE-2", "PROBE-1"]
    assert [a.asset_uuid for a in sensor.references_below()] == ["PROBE-2", "PROBE-1"]
    assert [a.asset_uuid for a in sensor.references_above()] == ["LINE-1"]
    assert Asset("SENSOR-1", ofa_ksqldb).references_below_uuid() == ["PROBE-2", "PROBE-1"]


def test_method_on_asset_without_that_method_is_refused(sensor: Asset) -> None:
    with pytest.raises(CommandError, match="no such method"):
        sensor.method("explode", "ME", {})


def test_close_stops_updates(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    view = Asset("SENSOR-1", ofa_ksqldb)
    view.close()
    view.close()
    sensor.temp = 99.0
    assert view.temp.value == 21.5


def test_malformed_records_are_ignored(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    broker = ofa_ksqldb.broker
    broker.produce("ofa_assets", "SENSOR-1", b"not json")
    broker.produce("ofa_assets", "SENSOR-1", b'{"ID": "x", "TYPE": "Bogus"}')
    broker.produce("ofa_assets", "SENSOR-1", None)
    assert sensor.x.type == "UNAVAILABLE"
    sensor.temp = 5.0
    assert sensor.temp.value == 5.0


def test_private_names_are_plain_state_and_never_publish(
    sensor: Asset, ofa_ksqldb: FakeKSQLDB
) -> None:
    before = len(ofa_ksqldb.broker.records("ofa_assets"))
    sensor._scratch = AssetAttribute(1, "Samples", "Scratch")
    assert sensor._scratch.value == 1
    assert len(ofa_ksqldb.broker.records("ofa_assets")) == before
    assert "_scratch" not in sensor.attributes()


def test_an_update_is_published_as_the_attribute_it_replaces(
    sensor: Asset, ofa_ksqldb: FakeKSQLDB
) -> None:
    sensor.temp = 22
    current = sensor.temp
    assert (current.value, current.type, current.tag, current.id) == (
        22,
        "Samples",
        "Temperature",
        "temp",
    )
    parse_timestamp(current.timestamp)
    published = ofa_ksqldb.broker.records("ofa_assets", "SENSOR-1")[-1].json()
    assert published == {
        "ID": "temp",
        "VALUE": 22,
        "TAG": "Temperature",
        "TYPE": "Samples",
        "attributes": {"timestamp": current.timestamp},
    }


def test_the_topics_order_decides_the_current_value(sensor: Asset, ofa_ksqldb: FakeKSQLDB) -> None:
    # Another writer's record that comes in while an update is being delivered is later on the
    # topic: it stays the current value once the update's publish returns.
    def overtake(record: Record) -> None:
        if record.json()["VALUE"] == 1.0:
            other.temp = 2.0

    other = Asset("SENSOR-1", ofa_ksqldb)
    ofa_ksqldb.broker.subscribe("ofa_assets", "SENSOR-1", overtake)
    sensor.temp = 1.0
    assert [r.json()["VALUE"] for r in ofa_ksqldb.broker.records("ofa_assets")[-2:]] == [1.0, 2.0]
    assert sensor.temp.value == other.temp.value == 2.0


def test_an_attribute_whose_type_was_changed_to_a_bad_one_is_refused(sensor: Asset) -> None:
    sensor.temp.type = "Sample"  # an AssetAttribute is mutable; what is published is checked
    with pytest.raises(ConfigurationError, match="'Sample'"):
        sensor.temp = 3.0
