"""Reference section 4.7 (and section 11, items 21, 22 and 24): subscription callbacks
``on_message(msg_subject, msg_value)``, what each ``subscribe_*`` delivers, one callback per
kind, the legacy consumer-group argument, and the ``stop_*`` methods."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openfactory.assets import Asset
from openfactory.exceptions import OFAException
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
DEVICE = "dev-42"  # a lower-case UUID, as the platform's own docs use


def publish(ksql: FakeKSQLDB, attr: str, value: Any, tag: str, type_: str) -> None:
    ksql.broker.produce("ofa_assets", DEVICE, asset_record(attr, value, tag, type_, TS))


def publish_one_of_each(ksql: FakeKSQLDB) -> None:
    publish(ksql, "temp", "5", "Temperature", "Samples")
    publish(ksql, "status", "idle", "Status", "Events")
    publish(ksql, "alarm", "Normal", "Alarm", "Condition")
    publish(ksql, "AssetType", "Device", "AssetType", "OpenFactory")
    publish(ksql, "move", "{}", "Method", "Method")


class Messages:
    """A callback keeping (subject, payload) pairs."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []

    def __call__(self, msg_subject: str, msg_value: Any) -> None:
        self.received.append((msg_subject, msg_value))

    @property
    def subjects(self) -> list[str]:
        return [subject for subject, _ in self.received]


def test_the_callback_gets_the_subject_and_the_record_as_published() -> None:
    ksql, seen = FakeKSQLDB(), Messages()
    Asset(DEVICE, ksql).subscribe_to_attribute("temp", seen)
    publish(ksql, "temp", "5", "Temperature", "Samples")
    [(subject, payload)] = seen.received
    assert subject == "dev-42.temp"  # the key as published (section 11, item 24)
    # The keys exactly as published; VALUE not converted (a sample published as "5" is "5").
    assert payload == {"ID": "temp", "VALUE": "5", "TAG": "Temperature", "TYPE": "Samples",
                       "attributes": {"timestamp": TS}}  # fmt: skip
    assert list(payload) == ["ID", "VALUE", "TAG", "TYPE", "attributes"]


def test_the_payload_reads_in_any_case_and_serializes_as_a_dict() -> None:
    ksql, seen = FakeKSQLDB(), Messages()
    Asset(DEVICE, ksql).subscribe_to_messages(seen)
    publish(ksql, "temp", 5.5, "Temperature", "Samples")
    [(_, payload)] = seen.received
    assert payload["value"] == payload["Value"] == payload["VALUE"] == 5.5
    assert payload.get("tag") == "Temperature" and payload.get("nope", "x") == "x"
    assert "type" in payload and "nope" not in payload
    with pytest.raises(KeyError):
        payload["nope"]
    assert isinstance(payload, dict)
    assert json.loads(json.dumps(payload))["VALUE"] == 5.5


def test_each_kind_delivers_its_types() -> None:
    ksql = FakeKSQLDB()
    asset = Asset(DEVICE, ksql)
    seen = {kind: Messages() for kind in ("messages", "samples", "events", "conditions")}
    asset.subscribe_to_messages(seen["messages"])
    asset.subscribe_to_samples(seen["samples"])
    asset.subscribe_to_events(seen["events"])
    asset.subscribe_to_conditions(seen["conditions"])
    publish_one_of_each(ksql)
    assert {kind: messages.subjects for kind, messages in seen.items()} == {
        "messages": ["dev-42.temp", "dev-42.status", "dev-42.alarm", "dev-42.AssetType",
                     "dev-42.move"],  # every TYPE, as 0.5.3 delivers
        "samples": ["dev-42.temp"],
        "events": ["dev-42.status"],
        "conditions": ["dev-42.alarm"],
    }  # fmt: skip


def test_only_what_is_published_after_subscribing_arrives() -> None:
    ksql, seen = FakeKSQLDB(), Messages()
    asset = Asset(DEVICE, ksql)
    publish(ksql, "temp", 1, "Temperature", "Samples")
    asset.subscribe_to_samples(seen)
    publish(ksql, "temp", 2, "Temperature", "Samples")
    assert [payload["VALUE"] for _, payload in seen.received] == [2]


@pytest.mark.parametrize(
    ("subscribe", "stop"),
    [
        ("subscribe_to_messages", "stop_messages_subscription"),
        ("subscribe_to_samples", "stop_samples_subscription"),
        ("subscribe_to_events", "stop_events_subscription"),
        ("subscribe_to_conditions", "stop_conditions_subscription"),
    ],
)
def test_one_callback_per_kind(subscribe: str, stop: str) -> None:
    ksql = FakeKSQLDB()
    asset, first, second = Asset(DEVICE, ksql), Messages(), Messages()
    getattr(asset, subscribe)(first)
    with pytest.raises(OFAException, match=stop):
        getattr(asset, subscribe)(second)
    publish_one_of_each(ksql)
    assert first.received and not second.received
    getattr(asset, stop)()
    getattr(asset, subscribe)(second)
    publish_one_of_each(ksql)
    assert len(first.received) == len(second.received)


def test_one_callback_per_attribute() -> None:
    ksql = FakeKSQLDB()
    asset, temp, status = Asset(DEVICE, ksql), Messages(), Messages()
    asset.subscribe_to_attribute("temp", temp)
    asset.subscribe_to_attribute("status", status)  # another attribute: fine
    with pytest.raises(OFAException, match=r"stop_attribute_subscription\('temp'\)"):
        asset.subscribe_to_attribute("temp", Messages())
    asset.stop_attribute_subscription("temp")
    asset.subscribe_to_attribute("temp", temp)
    publish_one_of_each(ksql)
    assert (temp.subjects, status.subjects) == (["dev-42.temp"], ["dev-42.status"])


def test_a_legacy_consumer_group_argument_is_accepted_and_ignored() -> None:
    # Section 11, item 22: the platform's documented examples pass one.
    ksql = FakeKSQLDB()
    asset = Asset(DEVICE, ksql)
    seen = [Messages() for _ in range(5)]
    asset.subscribe_to_messages(seen[0], "demo_messages_group")
    asset.subscribe_to_samples(seen[1], "demo_samples_group")
    asset.subscribe_to_events(seen[2], "demo_events_group")
    asset.subscribe_to_conditions(seen[3], "demo_conditions_group")
    asset.subscribe_to_attribute("temp", seen[4], "demo_attribute_group")
    publish_one_of_each(ksql)
    assert [len(s.received) for s in seen] == [5, 1, 1, 1, 1]


def test_stopping_what_is_not_subscribed_is_fine() -> None:
    asset = Asset(DEVICE, FakeKSQLDB())
    asset.stop_attribute_subscription("temp")
    asset.stop_messages_subscription()
    asset.stop_samples_subscription()
    asset.stop_events_subscription()
    asset.stop_conditions_subscription()


def test_stopped_subscriptions_deliver_nothing() -> None:
    ksql = FakeKSQLDB()
    asset = Asset(DEVICE, ksql)
    seen = [Messages() for _ in range(5)]
    asset.subscribe_to_messages(seen[0])
    asset.subscribe_to_samples(seen[1])
    asset.subscribe_to_events(seen[2])
    asset.subscribe_to_conditions(seen[3])
    asset.subscribe_to_attribute("temp", seen[4])
    asset.stop_messages_subscription()
    asset.stop_samples_subscription()
    asset.stop_events_subscription()
    asset.stop_conditions_subscription()
    asset.stop_attribute_subscription("temp")
    publish_one_of_each(ksql)
    assert [s.received for s in seen] == [[]] * 5
