"""Reference section 3.5: ``register_prometheus_metrics`` (0.6.6), and the helpers of
``openfactory.monitoring.utils``: find the Prometheus registry, announce or withdraw the app's
scrape target on the topic of ``METRICS_TARGETS_SOURCE``. Unlike upstream, test mode stays
in memory (reference section 11, item 18)."""

from __future__ import annotations

from typing import Any

import pytest

from openfactory.assets import Asset, AssetAttribute
from openfactory.errors import ConfigurationError, DeliveryError, KSQLDBError, TransportError
from openfactory.kafka import KSQLDBClient
from openfactory.monitoring.utils import (
    deregister_prometheus_target,
    discover_prometheus_registry,
    register_prometheus_target,
)
from openfactory.testing import FakeBroker, FakeKSQLDB, embedded_broker, embedded_ksqldb
from openfactory.testing.memory import InMemoryTransport

pytest.importorskip("flask", reason="CI installs the [flask] extra")
pytest.importorskip("fastapi", reason="CI installs the [fastapi] extra")

from openfactory.apps import OpenFactoryFastAPIApp, OpenFactoryFlaskApp

TOPIC = "metrics_targets_topic"
QUERY = "select ASSET_UUID from ASSETS_TYPE where TYPE='Prometheus.Registry';"


class MetricsKSQLDB(FakeKSQLDB):
    """The fake ksqlDB, recording the pull queries it answers."""

    def __init__(self, broker: FakeBroker | None = None) -> None:
        super().__init__(broker)
        self.queries: list[str] = []

    def query(self, sql: str) -> list[dict[str, Any]]:
        self.queries.append(sql)
        return super().query(sql)


@pytest.fixture
def ksqldb() -> MetricsKSQLDB:
    return MetricsKSQLDB()


@pytest.fixture
def transport(ksqldb: MetricsKSQLDB) -> InMemoryTransport:
    return InMemoryTransport(ksqldb.broker, ksqldb)


def deploy_asset(ksqldb: FakeKSQLDB, uuid: str, asset_type: str) -> None:
    """What the platform's deployer publishes for an asset of ``asset_type``."""
    asset = Asset(uuid, ksqldb)
    asset.add_attribute("AssetType", AssetAttribute(asset_type, "OpenFactory", "AssetType"))
    asset.close()


def targets(ksqldb: FakeKSQLDB) -> list[tuple[str | None, Any]]:
    return [(r.key, r.json()) for r in ksqldb.broker.records(TOPIC)]


def scrape_target(ksqldb: FakeKSQLDB, uuid: str) -> list[dict[str, Any]]:
    """What the platform's Prometheus registry reads: the row of ``METRICS_TARGETS_SOURCE``."""
    return ksqldb.query(
        f"SELECT HOST, PORT, PATH FROM METRICS_TARGETS_SOURCE WHERE APPLICATION_UUID='{uuid}';"
    )


@pytest.mark.parametrize("app_class", [OpenFactoryFastAPIApp, OpenFactoryFlaskApp])
def test_register_prometheus_metrics_publishes_the_target(
    monkeypatch: pytest.MonkeyPatch,
    ksqldb: MetricsKSQLDB,
    capsys: pytest.CaptureFixture[str],
    app_class: type,
) -> None:
    deploy_asset(ksqldb, "PROMETHEUS-REGISTRY", "Prometheus.Registry")
    monkeypatch.setenv("APP_UUID", "Vision-Cell-2")
    app = app_class(ksqldb, test_mode=True)
    app.register_prometheus_metrics(9100)
    app.register_prometheus_metrics(9100, metrics_path="/internal/metrics")
    assert QUERY in ksqldb.queries  # the platform's statement, verbatim
    assert targets(ksqldb) == [
        ("Vision-Cell-2", {"HOST": "vision-cell-2", "PORT": "9100", "PATH": "/metrics"}),
        ("Vision-Cell-2", {"HOST": "vision-cell-2", "PORT": "9100", "PATH": "/internal/metrics"}),
    ]
    # The value is the JSON the platform's producer writes, byte for byte.
    assert ksqldb.broker.records(TOPIC)[0].value == (
        b'{"HOST": "vision-cell-2", "PORT": "9100", "PATH": "/metrics"}'
    )
    logged = capsys.readouterr().err  # the app's logger writes to stderr
    assert "INFO registering metrics endpoint vision-cell-2:9100/metrics" in logged
    assert "with Prometheus registry PROMETHEUS-REGISTRY" in logged


def test_no_registry_deployed_is_an_error_and_publishes_nothing(ksqldb: MetricsKSQLDB) -> None:
    deploy_asset(ksqldb, "CAMERA-1", "Device")  # another type of asset is not a registry
    app = OpenFactoryFlaskApp(ksqldb, test_mode=True)
    with pytest.raises(ConfigurationError, match=r"^No Prometheus Registry deployed"):
        app.register_prometheus_metrics(9100)
    assert targets(ksqldb) == []


def test_test_mode_registers_in_memory_even_with_a_production_client() -> None:
    # Upstream builds a Kafka producer here even in test mode; this SDK goes through the app's
    # transport, in memory in test mode: neither the broker nor ksqlDB below is contacted.
    deploy_asset(embedded_ksqldb(), "PROMETHEUS-REGISTRY", "Prometheus.Registry")
    app = OpenFactoryFastAPIApp(
        KSQLDBClient("http://ksqldb.invalid:8088"),
        bootstrap_servers="kafka.invalid:9092",
        test_mode=True,
    )
    app.register_prometheus_metrics(4000)
    assert [r.json() for r in embedded_broker().records(TOPIC, "DEV-UUID")] == [
        {"HOST": "dev-uuid", "PORT": "4000", "PATH": "/metrics"}
    ]
    assert scrape_target(embedded_ksqldb(), "DEV-UUID") == [
        {"HOST": "dev-uuid", "PORT": "4000", "PATH": "/metrics"}
    ]


def test_the_target_goes_through_the_apps_transport(
    ksqldb: MetricsKSQLDB, transport: InMemoryTransport
) -> None:
    # Not a producer of its own (upstream builds one even in test mode): the app's transport,
    # here an explicit in-memory one although a broker address is given.
    deploy_asset(ksqldb, "PROMETHEUS-REGISTRY", "Prometheus.Registry")
    app = OpenFactoryFlaskApp(ksqldb, bootstrap_servers="kafka.invalid:9092", transport=transport)
    app.register_prometheus_metrics(4000)
    assert targets(ksqldb) == [
        ("DEV-UUID", {"HOST": "dev-uuid", "PORT": "4000", "PATH": "/metrics"})
    ]


# openfactory.monitoring.utils ---------------------------------------------------------------
def test_discover_prometheus_registry(ksqldb: MetricsKSQLDB, transport: InMemoryTransport) -> None:
    with pytest.raises(ConfigurationError, match="No Prometheus Registry deployed"):
        discover_prometheus_registry(transport)
    deploy_asset(ksqldb, "PROM-1", "Prometheus.Registry")
    assert discover_prometheus_registry(transport) == "PROM-1"
    assert discover_prometheus_registry(ksqldb) == "PROM-1"  # a ksqlDB client works too
    ksqldb.take_down()
    with pytest.raises(KSQLDBError):
        discover_prometheus_registry(transport)


def test_register_and_deregister_a_target(
    ksqldb: MetricsKSQLDB, transport: InMemoryTransport
) -> None:
    register_prometheus_target(transport, "OVEN-3", 8000, "/prom")
    assert scrape_target(ksqldb, "OVEN-3") == [{"HOST": "oven-3", "PORT": "8000", "PATH": "/prom"}]
    deregister_prometheus_target(transport, "OVEN-3")
    assert scrape_target(ksqldb, "OVEN-3") == []
    records = ksqldb.broker.records(TOPIC, "OVEN-3")
    assert [r.json() for r in records] == [
        {"HOST": "oven-3", "PORT": "8000", "PATH": "/prom"},
        None,
    ]
    assert records[-1].is_tombstone


@pytest.mark.parametrize(
    ("port", "path", "message"),
    [
        (0, "/metrics", "metrics_port must be a TCP port in 1-65535"),
        (70000, "/metrics", "metrics_port must be a TCP port in 1-65535"),
        ("9100", "/metrics", "metrics_port must be an int, got '9100'"),
        (9100, "metrics", "metrics_path must be a URL path starting with '/'"),
    ],
)
def test_bad_targets_are_refused(
    ksqldb: MetricsKSQLDB, transport: InMemoryTransport, port: Any, path: Any, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        register_prometheus_target(transport, "OVEN-3", port, path)
    with pytest.raises(ConfigurationError, match="asset_uuid must be"):
        deregister_prometheus_target(transport, "")
    assert targets(ksqldb) == []


def test_delivery_failures_are_raised(ksqldb: MetricsKSQLDB, transport: InMemoryTransport) -> None:
    ksqldb.broker.fail_next(1, reason="broker refused the record")
    with pytest.raises(DeliveryError, match="broker refused the record"):
        register_prometheus_target(transport, "OVEN-3", 8000)
    ksqldb.broker.disconnect()
    with pytest.raises(TransportError, match=r"not delivered within 0\.05 s"):
        register_prometheus_target(transport, "OVEN-3", 8000, timeout=0.05)
    ksqldb.broker.reconnect()
    assert targets(ksqldb)[-1] == ("OVEN-3", {"HOST": "oven-3", "PORT": "8000", "PATH": "/metrics"})
