"""The asset router's answers and failures (reference section 9.5), over HTTP on loopback, and
what an app or asset given a router does when the router or its NATS server fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from openfactory.assets import Asset
from openfactory.backends import override_transport
from openfactory.errors import (
    ConfigurationError,
    OFAConfigurationException,
    TransportError,
)
from openfactory.fanout import (
    AssetRouterError,
    HttpAssetRouter,
    check_router_url,
    get_nats_cluster_url,
)
from openfactory.kafka.transport import KafkaTransport
from openfactory.testing.loopback import LoopbackAssetRouter, LoopbackKafka
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport import Transport

NATS = "nats://nats-cluster-1:4222"


@pytest.fixture
def router() -> Iterator[LoopbackAssetRouter]:
    with LoopbackAssetRouter(NATS, cluster_name="cluster-1") as running:
        yield running


def closed_port_url() -> str:
    """An http:// URL on loopback where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_router_names_the_nats_server_of_an_asset(router: LoopbackAssetRouter) -> None:
    assert HttpAssetRouter(router.url + "/").nats_url("PROVER3018") == NATS
    assert get_nats_cluster_url("app scheduler/1", router.url) == NATS
    assert router.requests == ["PROVER3018", "app scheduler/1"]  # quoted in the path, as is


def test_an_http_error_names_the_status_the_router_and_the_asset(
    router: LoopbackAssetRouter,
) -> None:
    router.route("GHOST", status=404, answer={"detail": "unknown asset"})
    with pytest.raises(AssetRouterError, match="HTTP 404 for asset 'GHOST'") as caught:
        HttpAssetRouter(router.url).nats_url("GHOST")
    assert caught.value.status_code == 404
    assert "ASSET_ROUTER_URL" in str(caught.value) and "unknown asset" in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [{"asset_id": "A", "cluster_name": "c"}, {"nats_url": ""}, {"nats_url": 4222}],
    ids=["missing", "empty", "not text"],
)
def test_an_answer_without_nats_url_is_an_error_and_a_value_error(
    router: LoopbackAssetRouter, answer: dict
) -> None:
    router.route("A", answer=answer)
    with pytest.raises(AssetRouterError, match="named no NATS server for asset 'A'") as caught:
        HttpAssetRouter(router.url).nats_url("A")
    assert isinstance(caught.value, ValueError)  # what the platform library raises


def test_an_answer_that_is_not_a_json_object_is_an_error(router: LoopbackAssetRouter) -> None:
    router.route("A", answer=b"<html>gateway</html>")
    with pytest.raises(AssetRouterError, match="not a JSON object"):
        HttpAssetRouter(router.url).nats_url("A")


def test_an_unreachable_router_is_a_configuration_error_naming_asset_router_url() -> None:
    url = closed_port_url()
    with pytest.raises(OFAConfigurationException, match="ASSET_ROUTER_URL") as caught:
        HttpAssetRouter(url, timeout=2).nats_url("A")
    assert url in str(caught.value) and "'A'" in str(caught.value)


@pytest.mark.parametrize("url", ["", "asset-router:8000", "ftp://router", "http://", 8000, None])
def test_a_router_url_must_be_http(url: object) -> None:
    with pytest.raises(ConfigurationError, match="ASSET_ROUTER_URL"):
        check_router_url(url)


# An app or asset given a router on Kafka: failures at construction leave nothing running.
@pytest.fixture
def kafka_transports(
    ofa_loopback_kafka: LoopbackKafka,
) -> Iterator[list[Transport]]:
    made: list[Transport] = []
    ksqldb = FakeKSQLDB()

    def factory(_ksql: object, _bootstrap: object) -> Transport:
        made.append(KafkaTransport(ofa_loopback_kafka.bootstrap_servers, ksqldb))
        return made[-1]

    with override_transport(factory):
        yield made


def assert_all_closed(transports: list[Transport]) -> None:
    assert transports, "no transport was built"
    for transport in transports:
        with pytest.raises(TransportError, match="closed"):
            transport.publish("t", "k", b"x")


def test_asset_with_an_unreachable_router_fails_at_construction(
    kafka_transports: list[Transport], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSET_ROUTER_URL", closed_port_url())
    with pytest.raises(OFAConfigurationException, match="ASSET_ROUTER_URL"):
        Asset("PROVER3018", FakeKSQLDB())
    assert_all_closed(kafka_transports)


def test_asset_whose_router_names_no_server_fails_at_construction(
    kafka_transports: list[Transport],
    router: LoopbackAssetRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router.route("PROVER3018", answer={"asset_id": "PROVER3018"})
    monkeypatch.setenv("ASSET_ROUTER_URL", router.url)
    with pytest.raises(AssetRouterError, match="no 'nats_url'"):
        Asset("PROVER3018", FakeKSQLDB())
    assert_all_closed(kafka_transports)


def test_asset_whose_nats_server_never_answers_fails_within_a_bounded_wait(
    kafka_transports: list[Transport],
    router: LoopbackAssetRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A socket that accepts connections (in its backlog) and never says a word.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = f"nats://127.0.0.1:{silent.getsockname()[1]}"
        router.route("PROVER3018", server)
        monkeypatch.setenv("ASSET_ROUTER_URL", router.url)
        with pytest.raises(TransportError, match="did not answer within") as caught:
            Asset("PROVER3018", FakeKSQLDB())
    assert server in str(caught.value) and "ASSET_ROUTER_URL" in str(caught.value)
    assert_all_closed(kafka_transports)


def test_asset_whose_router_names_a_server_of_another_kind_fails(
    kafka_transports: list[Transport],
    router: LoopbackAssetRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    router.route("PROVER3018", "http://nats:8222")
    monkeypatch.setenv("ASSET_ROUTER_URL", router.url)
    with pytest.raises(ConfigurationError, match="nats://"):
        Asset("PROVER3018", FakeKSQLDB())
    assert_all_closed(kafka_transports)
