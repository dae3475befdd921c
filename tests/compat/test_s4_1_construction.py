"""Reference section 4.1 (and the asset rows of sections 2 and 10): building ``Asset``,
``AssetUNS`` and ``BaseAsset``, their class constants, the attributes an instance has, and the
module paths they are imported from."""

from __future__ import annotations

import importlib
import json

import pytest

import openfactory.assets
from openfactory.assets import Asset, AssetAttribute, AssetUNS, BaseAsset
from openfactory.backends import override_transport
from openfactory.exceptions import OFAException
from openfactory.kafka import AssetProducer, KSQLDBClient
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport import KSQLDB

UNREACHABLE = "http://127.0.0.1:1"  # a ksqlDB client that is never contacted


def test_the_documented_paths_hold_the_asset_classes() -> None:
    assert set(openfactory.assets.__all__) >= {"Asset", "AssetUNS", "AssetAttribute"}
    for module, name, expected in [
        ("openfactory.assets.asset_class", "Asset", Asset),
        ("openfactory.assets.asset_uns_class", "AssetUNS", AssetUNS),
        ("openfactory.assets.asset_base", "BaseAsset", BaseAsset),
    ]:
        assert getattr(importlib.import_module(module), name) is expected


def test_asset_takes_the_five_documented_parameters(ofa_ksqldb: FakeKSQLDB) -> None:
    positional = Asset("PUMP-1", ofa_ksqldb, None, None, False)
    named = Asset(asset_uuid="PUMP-1", ksqlClient=ofa_ksqldb, bootstrap_servers=None,
                  asset_router_url=None, test_mode=False)  # fmt: skip
    for asset in (positional, named):
        assert (asset.asset_uuid, asset.ASSET_ID, asset.ksql) == ("PUMP-1", "PUMP-1", ofa_ksqldb)


def test_class_constants_and_asset_id(ofa_ksqldb: FakeKSQLDB) -> None:
    assert (Asset.KSQL_ASSET_TABLE, Asset.KSQL_ASSET_ID) == ("assets", "asset_uuid")
    assert (AssetUNS.KSQL_ASSET_TABLE, AssetUNS.KSQL_ASSET_ID) == ("assets_uns", "uns_id")
    uns = AssetUNS("factory/line-1/pump", ofa_ksqldb)
    assert uns.ASSET_ID == uns.uns_id == "factory/line-1/pump"


def test_base_asset_is_the_abstract_base_of_both(ofa_ksqldb: FakeKSQLDB) -> None:
    assert issubclass(Asset, BaseAsset) and issubclass(AssetUNS, BaseAsset)
    assert isinstance(Asset("PUMP-1", ofa_ksqldb), BaseAsset)
    with pytest.raises(TypeError, match="BaseAsset is abstract"):
        BaseAsset(ofa_ksqldb)


def test_production_reads_the_broker_and_router_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "broker:9092")
    monkeypatch.setenv("ASSET_ROUTER_URL", "http://router:8080")
    fake = FakeKSQLDB()
    given: list[str | None] = []

    def fake_broker(_client: KSQLDB | None, servers: str | None):  # what --ofa-fake-broker does
        given.append(servers)
        return fake.open_transport()

    with override_transport(fake_broker):
        asset = Asset("PUMP-1", KSQLDBClient(UNREACHABLE))
    assert given == ["broker:9092"]
    assert (asset.bootstrap_servers, asset.asset_router_url) == (
        "broker:9092",
        "http://router:8080",
    )
    explicit = Asset("PUMP-1", fake, "other:9092", "http://other:8080")
    assert (explicit.bootstrap_servers, explicit.asset_router_url) == (
        "other:9092", "http://other:8080",
    )  # fmt: skip


def test_test_mode_reads_neither(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "broker:9092")
    monkeypatch.setenv("ASSET_ROUTER_URL", "http://router:8080")
    asset = Asset("PUMP-1", KSQLDBClient(UNREACHABLE), test_mode=True)
    assert (asset.bootstrap_servers, asset.asset_router_url) == (None, None)


def test_production_without_a_broker_raises_ofa_exception() -> None:
    with pytest.raises(OFAException, match=r"bootstrap_servers.*KAFKA_BROKER"):
        Asset("PUMP-1", KSQLDBClient(UNREACHABLE))


def test_producer_publishes_on_the_assets_transport(ofa_ksqldb: FakeKSQLDB) -> None:
    asset = Asset("PUMP-1", ofa_ksqldb)
    assert isinstance(asset.producer, AssetProducer) and asset.producer is asset.producer
    asset.producer.send_asset_attribute(
        "PUMP-1", AssetAttribute(id="rpm", value=1200, type="Samples", tag="Speed")
    )
    [record] = ofa_ksqldb.broker.records("ofa_assets", "PUMP-1")
    assert json.loads(record.value or b"")["ID"] == "rpm"
    assert asset.rpm.value == 1200  # the view follows what was produced


def test_the_06_state_attributes_exist_at_construction(ofa_ksqldb: FakeKSQLDB) -> None:
    asset = Asset("PUMP-1", ofa_ksqldb)
    assert (asset.ofa_attributes, asset.ofa_methods) == ({}, {})


def test_close_in_test_mode_is_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.5.3 raised AttributeError here; 0.6.6 returns (section 10).
    asset = Asset("PUMP-1", KSQLDBClient(UNREACHABLE), test_mode=True)
    asset.close()
    asset.close()
    uns = AssetUNS("factory/pump", KSQLDBClient(UNREACHABLE), test_mode=True)
    uns.close()
    uns.close()
