"""The forwarders' message shape, both ways (reference sections 4.7 and 9.5), and NATS subject
matching of the in-memory server."""

from __future__ import annotations

import json

import pytest

from openfactory.errors import ConfigurationError
from openfactory.fanout import (
    asset_subjects,
    check_subject_key,
    forwarded_message,
    record_from_message,
)
from openfactory.testing.memory.fanout import subject_matches
from openfactory.transport import Record

STAMP = "2026-05-04T12:34:56.789Z"
KAFKA_MS = 1_777_898_096_789  # STAMP in epoch milliseconds


def published(value: object, key: str = "app-scheduler") -> Record:
    return Record("ofa_assets", key, json.dumps(value).encode(), 2, 41, KAFKA_MS)


def test_forwarder_moves_the_id_to_the_subject_and_adds_its_timestamps() -> None:
    record = published(
        {"ID": "temp", "VALUE": "5", "TAG": "T", "TYPE": "Samples",
         "attributes": {"timestamp": STAMP, "ingestion_timestamp": STAMP}}
    )  # fmt: skip
    subject, data = forwarded_message(record, "2026-05-04T12:34:57.000Z") or ("", b"")
    assert subject == "app-scheduler.temp"  # the key as published, lower case kept
    assert json.loads(data) == {
        "VALUE": "5",  # not converted
        "TAG": "T",
        "TYPE": "Samples",
        "attributes": {
            "timestamp": STAMP,
            "ingestion_timestamp": STAMP,
            "asset_forwarder_timestamp": "2026-05-04T12:34:57.000Z",
            "kafka_timestamp": STAMP,
            "kafka_timestamp_type": "producer",
        },
    }


@pytest.mark.parametrize(
    "record",
    [
        Record("ofa_assets", "A", None),
        Record("ofa_assets", None, b'{"ID": "x", "VALUE": 1}'),
        Record("ofa_assets", "A", b"not json"),
        Record("ofa_assets", "A", b'["ID", "x"]'),
        Record("ofa_assets", "A", b'{"VALUE": 1}'),
        Record("ofa_assets", "A", b'{"ID": "", "VALUE": 1}'),
    ],
    ids=["tombstone", "no key", "not json", "not an object", "no ID", "empty ID"],
)
def test_forwarder_skips_what_is_no_asset_record(record: Record) -> None:
    assert forwarded_message(record) is None


def test_unknown_timestamp_type_is_forwarded_as_unknown() -> None:
    _, data = forwarded_message(published({"ID": "x", "VALUE": 1}), STAMP, "append") or ("", b"")
    assert json.loads(data)["attributes"]["kafka_timestamp_type"] == "unknown"


def test_a_forwarded_message_reads_back_as_the_asset_record_with_the_id_first() -> None:
    original = {"ID": "spindle.speed", "VALUE": 1200, "TAG": "Speed", "TYPE": "Samples",
                "attributes": {"timestamp": STAMP}}  # fmt: skip
    subject, data = forwarded_message(published(original), STAMP) or ("", b"")
    record = record_from_message("ofa_assets", "app-scheduler", subject, data)
    assert record is not None
    assert (record.topic, record.key, record.offset, record.timestamp_ms) == (
        "ofa_assets", "app-scheduler", -1, KAFKA_MS,
    )  # fmt: skip
    value = record.json()
    assert next(iter(value)) == "ID" and value["ID"] == "spindle.speed"  # a dotted id survives
    assert {k: v for k, v in value.items() if k != "attributes"} == {
        k: v for k, v in original.items() if k != "attributes"
    }
    assert value["attributes"]["timestamp"] == STAMP


@pytest.mark.parametrize(
    ("subject", "data"),
    [("OTHER.temp", b"{}"), ("app-scheduler.", b"{}"), ("app-scheduler.x", b"[1]"),
     ("app-scheduler.x", b"{oops")],
    ids=["another asset", "no attribute", "not an object", "not json"],
)  # fmt: skip
def test_messages_that_carry_no_record_of_the_asset_read_as_none(subject: str, data: bytes) -> None:
    assert record_from_message("ofa_assets", "app-scheduler", subject, data) is None


def test_a_message_without_kafka_timestamp_reads_with_timestamp_zero() -> None:
    record = record_from_message("t", "A", "A.x", b'{"VALUE": 1}')
    assert record is not None and record.timestamp_ms == 0 and record.json()["ID"] == "x"


@pytest.mark.parametrize("key", ["app-scheduler", "PROVER3018", "DEV-UUID-2", "éclair"])
def test_keys_that_name_a_subject_prefix(key: str) -> None:
    assert check_subject_key(key) == key
    assert asset_subjects(key) == key + ".>"


@pytest.mark.parametrize("key", ["a.b", "a b", "a*", "a>", "", "tab\tkey"])
def test_keys_nats_cannot_carry_are_refused_with_the_way_out(key: str) -> None:
    with pytest.raises(ConfigurationError, match="Kafka directly") as caught:
        asset_subjects(key)
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("A.>", "A.x", True),
        ("A.>", "A.x.y", True),
        ("A.>", "A", False),
        ("A.>", "AB.x", False),
        ("A.*", "A.x", True),
        ("A.*", "A.x.y", False),
        ("*.x", "B.x", True),
        ("A.x", "A.x", True),
        ("A.x", "a.x", False),
    ],
)
def test_in_memory_subject_matching_is_nats_matching(
    pattern: str, subject: str, matches: bool
) -> None:
    assert subject_matches(pattern, subject) is matches
