"""Reference section 2, helpers [both]: ``CaseInsensitiveDict``, ``AssetProducer`` (records of
section 9.1), ``register_asset`` and ``deregister_asset`` (records of sections 9.2 and 9.3), in
memory and over the loopback Kafka cluster with the fake ksqlDB served over HTTP."""

from __future__ import annotations

import json
from collections import UserDict
from collections.abc import Iterator
from typing import Any

import pytest

from openfactory.assets import AssetAttribute
from openfactory.backends import override_transport
from openfactory.errors import ConfigurationError, DeliveryError
from openfactory.kafka import AssetProducer, CaseInsensitiveDict, KSQLDBClient
from openfactory.testing.loopback import LoopbackKafka
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.memory import FakeKSQLDB, embedded_broker
from openfactory.transport import Record
from openfactory.utils.assets import deregister_asset, publish_deregistration, register_asset

STAMP = "2026-05-04T12:34:56.789Z"


def temperature(value: Any = 21.5) -> AssetAttribute:
    return AssetAttribute(id="temp", value=value, type="Samples", tag="Temperature",
                          timestamp=STAMP)  # fmt: skip


def values(records: list[Record]) -> list[Any]:
    return [None if r.value is None else json.loads(r.value) for r in records]


def attribute(attribute_id: str, value: Any, tag: str, type_: str = "OpenFactory") -> dict:
    """An asset record's value without its timestamp."""
    return {"ID": attribute_id, "VALUE": value, "TAG": tag, "TYPE": type_}


def without_timestamps(decoded: list[Any]) -> list[Any]:
    out = []
    for value in decoded:
        if isinstance(value, dict) and "attributes" in value:
            assert set(value["attributes"]) == {"timestamp"}
            value = {k: v for k, v in value.items() if k != "attributes"}
        if isinstance(value, dict) and ("updated_at" in value or "UPDATED_AT" in value):
            value = {k: v for k, v in value.items() if k.lower() != "updated_at"}
        out.append(value)
    return out


# CaseInsensitiveDict ----------------------------------------------------------------------
def test_case_insensitive_dict_reads_and_writes_in_any_case() -> None:
    payload = CaseInsensitiveDict({"VALUE": 42, "TAG": "Speed", "attributes": {"timestamp": STAMP}})
    assert isinstance(payload, UserDict) and not isinstance(payload, dict)
    assert payload["value"] == payload["Value"] == 42
    assert payload.get("tag") == "Speed" and payload.get("type") is None
    assert payload.get("TYPE", "Samples") == "Samples"
    assert "Attributes" in payload and "ID" not in payload
    payload["value"] = 43
    assert list(payload) == ["VALUE", "TAG", "attributes"]  # the exact keys, as given
    assert payload == {"VALUE": 43, "TAG": "Speed", "attributes": {"timestamp": STAMP}}
    del payload["tag"]
    assert dict(payload) == {"VALUE": 43, "attributes": {"timestamp": STAMP}}
    with pytest.raises(KeyError):
        payload["tag"]


def test_case_insensitive_dict_copies_and_merges_stay_case_insensitive() -> None:
    original = CaseInsensitiveDict(VALUE=1)
    copied = original.copy()
    copied["value"] = 2
    assert (original["value"], copied["VALUE"]) == (1, 2)
    merged = original | {"value": 3, "TAG": "t"}
    assert dict(merged) == {"VALUE": 3, "TAG": "t"}
    original |= {"Value": 4}
    assert dict(original) == {"VALUE": 4}
    assert [] not in original


# AssetProducer ----------------------------------------------------------------------------
def test_asset_producer_publishes_the_asset_record_in_memory() -> None:
    ksql = FakeKSQLDB()
    with AssetProducer(ksql) as producer:
        assert producer.topic == "ofa_assets"
        producer.send_asset_attribute("PUMP-1", temperature())
        producer.send_asset_attribute("PUMP-1", temperature(22), {"source": "probe-2"})
        assert producer.flush() == 0
    records = ksql.broker.records("ofa_assets", "PUMP-1")
    assert [r.value for r in records] == [
        json.dumps({"ID": "temp", "VALUE": 21.5, "TAG": "Temperature", "TYPE": "Samples",
                    "attributes": {"timestamp": STAMP}}).encode(),
        json.dumps({"ID": "temp", "VALUE": 22, "TAG": "Temperature", "TYPE": "Samples",
                    "attributes": {"timestamp": STAMP, "source": "probe-2"}}).encode(),
    ]  # fmt: skip
    assert ksql.query("SELECT VALUE FROM assets WHERE KEY='PUMP-1|temp';") == [{"VALUE": "22"}]


def test_asset_producer_in_test_mode_uses_the_embedded_broker() -> None:
    with AssetProducer(KSQLDBClient("http://127.0.0.1:1"), test_mode=True) as producer:
        producer.send_asset_attribute("PUMP-2", temperature())
    assert values(embedded_broker().records("ofa_assets", "PUMP-2"))[0]["VALUE"] == 21.5


def test_asset_producer_follows_the_fake_broker_override() -> None:
    # What --ofa-fake-broker does to a producer built for production.
    ksql = FakeKSQLDB()
    with override_transport(lambda _ksql, _servers: ksql.open_transport()):
        producer = AssetProducer(KSQLDBClient("http://127.0.0.1:1"), "127.0.0.1:1")
        producer.send_asset_attribute("PUMP-3", temperature())
        producer.close()
    assert len(ksql.broker.records("ofa_assets", "PUMP-3")) == 1


def test_asset_producer_refuses_what_it_cannot_send() -> None:
    with AssetProducer(FakeKSQLDB()) as producer:
        with pytest.raises(ConfigurationError, match="asset_uuid"):
            producer.send_asset_attribute("", temperature())
        with pytest.raises(ConfigurationError, match="id"):
            producer.send_asset_attribute("PUMP-1", AssetAttribute(1, "Samples", "T"))
        with pytest.raises(ConfigurationError, match="attributes"):
            producer.send_asset_attribute("PUMP-1", temperature(), ["x"])  # type: ignore[arg-type]


def test_a_refused_record_raises_delivery_error() -> None:
    ksql = FakeKSQLDB()
    with AssetProducer(ksql) as producer:
        ksql.broker.fail_next(1, "broker said no")
        with pytest.raises(DeliveryError, match="broker said no"):
            producer.send_asset_attribute("PUMP-4", temperature())


# register_asset / deregister_asset --------------------------------------------------------
REGISTERED = [
    attribute("AssetType", "OpenFactoryApp", "AssetType"),
    attribute("DockerService", "app-1", "DockerService"),
    attribute("references_below", "", "AssetsReferences"),
    attribute("references_above", "", "AssetsReferences"),
]
UNS = {"levels": {"inc": "acme", "area": "hall-2"}, "uns_id": "acme/hall-2/app-1"}
DEREGISTERED_ASSETS = [
    attribute("avail", "UNAVAILABLE", "Availability", "Events"),
    attribute("references_below", "", "AssetsReferences"),
    attribute("references_above", "", "AssetsReferences"),
]


def test_register_asset_publishes_what_the_deployer_does() -> None:
    ksql = FakeKSQLDB()
    register_asset("APP-1", None, "OpenFactoryApp", ksql, docker_service="app-1")
    assert without_timestamps(values(ksql.broker.records("ofa_assets", "APP-1"))) == REGISTERED
    assert ksql.query("SELECT TYPE FROM assets_type WHERE ASSET_UUID='APP-1';") == [
        {"TYPE": "OpenFactoryApp"}
    ]
    assert ksql.query("SELECT DOCKER_SERVICE FROM docker_services WHERE ASSET_UUID='APP-1';") == [
        {"DOCKER_SERVICE": "app-1"}
    ]


def test_register_asset_with_a_uns() -> None:
    ksql = FakeKSQLDB()
    register_asset("APP-1", UNS, "OpenFactoryApp", ksql, None, "app-1")
    assert without_timestamps(values(ksql.broker.records("ofa_assets", "APP-1"))) == [
        *REGISTERED,
        attribute("inc", "acme", "UNSLevel"),
        attribute("area", "hall-2", "UNSLevel"),
        attribute("uns_id", "acme/hall-2/app-1", "UNSId"),
    ]
    uns_topic = ksql.get_kafka_topic("asset_to_uns_map_raw")
    (mapping,) = values(ksql.broker.records(uns_topic, "APP-1"))
    assert isinstance(mapping.pop("UPDATED_AT"), int)
    assert mapping == {"ASSET_UUID": "APP-1", "UNS_ID": "acme/hall-2/app-1",
                       "UNS_LEVELS": {"inc": "acme", "area": "hall-2"}}  # fmt: skip


@pytest.mark.parametrize(
    "uns", [{"levels": {}}, {"uns_id": "x"}, "acme/x", {"levels": [], "uns_id": "x"}]
)
def test_register_asset_refuses_a_malformed_uns(uns: Any) -> None:
    with pytest.raises(ConfigurationError, match="uns must be"):
        register_asset("APP-1", uns, "OpenFactoryApp", FakeKSQLDB())


def test_deregister_asset_publishes_the_shutdown_records_and_empties_the_tables() -> None:
    ksql = FakeKSQLDB()
    register_asset("APP-1", UNS, "OpenFactoryApp", ksql, docker_service="app-1")
    before = len(ksql.broker.records("ofa_assets", "APP-1"))
    deregister_asset("APP-1", ksql)
    published = ksql.broker.records("ofa_assets", "APP-1")[before:]
    assert without_timestamps(values(published)) == DEREGISTERED_ASSETS
    for table in ("assets_type", "assets_avail", "docker_services"):
        (tombstone,) = ksql.broker.records(ksql.get_kafka_topic(table), "APP-1")[-1:]
        assert tombstone.is_tombstone
        assert ksql.query(f"SELECT * FROM {table} WHERE ASSET_UUID='APP-1';") == []
    emptied = values(ksql.broker.records(ksql.get_kafka_topic("asset_to_uns_map_raw"), "APP-1"))
    assert isinstance(emptied[-1].pop("updated_at"), int)
    assert emptied[-1] == {"asset_uuid": "APP-1", "uns_id": None, "uns_levels": None}


def test_publish_deregistration_on_an_open_transport_without_avail() -> None:
    ksql = FakeKSQLDB()
    with ksql.open_transport() as transport:
        publish_deregistration(transport, "APP-2", unavailable=False)
        assert not transport.failures
    published = values(ksql.broker.records("ofa_assets", "APP-2"))
    assert without_timestamps(published) == DEREGISTERED_ASSETS[1:]


# over the loopback Kafka cluster ----------------------------------------------------------
@pytest.fixture
def cluster(
    ofa_loopback_kafka: LoopbackKafka, ofa_ksqldb_server: FakeKSQLDBServer
) -> Iterator[tuple[LoopbackKafka, KSQLDBClient]]:
    with KSQLDBClient(ofa_ksqldb_server.url) as client:
        yield ofa_loopback_kafka, client


def test_asset_producer_over_kafka(cluster: tuple[LoopbackKafka, KSQLDBClient]) -> None:
    kafka, client = cluster
    with AssetProducer(client, bootstrap_servers=kafka.bootstrap_servers) as producer:
        producer.send_asset_attribute("S2-KAFKA-PUMP", temperature())
    (record,) = [r for r in kafka.consume_all("ofa_assets") if r.key == "S2-KAFKA-PUMP"]
    assert record.value == json.dumps({"ID": "temp", "VALUE": 21.5, "TAG": "Temperature",
        "TYPE": "Samples", "attributes": {"timestamp": STAMP}}).encode()  # fmt: skip


def test_register_and_deregister_over_kafka(cluster: tuple[LoopbackKafka, KSQLDBClient]) -> None:
    kafka, client = cluster
    register_asset("S2-KAFKA-APP", None, "OpenFactoryApp", client, kafka.bootstrap_servers, "x")
    deregister_asset("S2-KAFKA-APP", client, kafka.bootstrap_servers)
    mine = [r for r in kafka.consume_all("ofa_assets") if r.key == "S2-KAFKA-APP"]
    assert [json.loads(r.value or b"")["ID"] for r in mine] == [
        "AssetType", "DockerService", "references_below", "references_above",
        "avail", "references_below", "references_above",
    ]  # fmt: skip
    for table in ("assets_type", "assets_avail", "docker_services"):
        topic = client.get_kafka_topic(table)
        assert [r.value for r in kafka.consume_all(topic) if r.key == "S2-KAFKA-APP"] == [None]
