"""Prometheus scrape targets: tell the platform's Prometheus registry where an app serves metrics.

An OpenFactory cluster that collects metrics runs an asset of type ``Prometheus.Registry``; apps
announce their endpoint as a record keyed by their UUID on the topic of ksqlDB stream
``METRICS_TARGETS_SOURCE`` (``{"HOST": uuid.lower(), "PORT": "<port>", "PATH": "/metrics"}``),
and withdraw it with a tombstone. Everything goes through the app's transport, so an app in test
mode registers on the in-memory broker and never touches the network.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

from openfactory.errors import ConfigurationError, TransportError
from openfactory.transport import DeliveryReport, Transport
from openfactory.transport.wire import METRICS_TARGETS_TABLE, encode_json

METRICS_TARGETS_SOURCE: Final = METRICS_TARGETS_TABLE
PROMETHEUS_REGISTRY_TYPE: Final = "Prometheus.Registry"
REGISTRY_QUERY: Final = (
    f"select ASSET_UUID from ASSETS_TYPE where TYPE='{PROMETHEUS_REGISTRY_TYPE}';"
)
DELIVERY_TIMEOUT: Final = 10.0


class _Queryable(Protocol):
    def query(self, sql: str) -> list[dict[str, Any]]: ...


def discover_prometheus_registry(source: _Queryable) -> str:
    """UUID of the Prometheus registry deployed on the cluster, asked of ksqlDB through
    ``source`` (a transport or a ksqlDB client).

    Raises ``ConfigurationError`` ("No Prometheus Registry deployed") when ``assets_type`` has no
    asset of type ``Prometheus.Registry``, and ``KSQLDBError`` when ksqlDB fails.
    """
    for row in source.query(REGISTRY_QUERY):
        uuid = next((v for k, v in row.items() if k.upper() == "ASSET_UUID"), None)
        if isinstance(uuid, str) and uuid:
            return uuid
    raise ConfigurationError(
        "No Prometheus Registry deployed: ksqlDB table assets_type lists no asset of type "
        f"{PROMETHEUS_REGISTRY_TYPE!r}; deploy the platform's Prometheus registry before "
        "registering a metrics endpoint"
    )


def register_prometheus_target(
    transport: Transport,
    asset_uuid: str,
    metrics_port: int,
    metrics_path: str = "/metrics",
    *,
    timeout: float = DELIVERY_TIMEOUT,
) -> None:
    """Publish ``asset_uuid``'s scrape target on the topic of ``METRICS_TARGETS_SOURCE`` and
    wait until it is delivered.

    Raises ``ConfigurationError`` for a port outside 1-65535 or a path not starting with ``/``,
    ``KSQLDBError`` when ksqlDB cannot name the topic, ``TransportError`` when the record is not
    delivered within ``timeout`` seconds.
    """
    _check_uuid(asset_uuid)
    if isinstance(metrics_port, bool) or not isinstance(metrics_port, int):
        raise ConfigurationError(f"metrics_port must be an int, got {metrics_port!r}")
    if not 0 < metrics_port < 65536:
        raise ConfigurationError(
            f"metrics_port must be a TCP port in 1-65535 that Prometheus can scrape, "
            f"got {metrics_port}"
        )
    if not isinstance(metrics_path, str) or not metrics_path.startswith("/"):
        raise ConfigurationError(
            f"metrics_path must be a URL path starting with '/', e.g. '/metrics', "
            f"got {metrics_path!r}"
        )
    target = {"HOST": asset_uuid.lower(), "PORT": str(metrics_port), "PATH": metrics_path}
    _publish_and_wait(transport, asset_uuid, encode_json(target), timeout)


def deregister_prometheus_target(
    transport: Transport, asset_uuid: str, *, timeout: float = DELIVERY_TIMEOUT
) -> None:
    """Withdraw ``asset_uuid``'s scrape target: a tombstone for its key on the topic of
    ``METRICS_TARGETS_SOURCE``, waited for like ``register_prometheus_target``'s record.

    Raises ``KSQLDBError`` when ksqlDB cannot name the topic, ``TransportError`` when the
    tombstone is not delivered within ``timeout`` seconds.
    """
    _check_uuid(asset_uuid)
    _publish_and_wait(transport, asset_uuid, None, timeout)


def register_prometheus_metrics(
    transport: Transport,
    asset_uuid: str,
    logger: logging.Logger,
    metrics_port: int,
    metrics_path: str = "/metrics",
) -> None:
    """What ``OpenFactoryApp.register_prometheus_metrics`` does: find the Prometheus registry,
    log it, then register ``asset_uuid``'s endpoint ``metrics_port``/``metrics_path``.

    Raises what ``discover_prometheus_registry`` and ``register_prometheus_target`` raise; in
    particular ``ConfigurationError`` ("No Prometheus Registry deployed") when there is none.
    """
    registry = discover_prometheus_registry(transport)
    logger.info(
        "registering metrics endpoint %s:%s%s with Prometheus registry %s",
        asset_uuid.lower(),
        metrics_port,
        metrics_path,
        registry,
    )
    register_prometheus_target(transport, asset_uuid, metrics_port, metrics_path)


def _check_uuid(asset_uuid: object) -> None:
    if not isinstance(asset_uuid, str) or not asset_uuid:
        raise ConfigurationError(
            f"asset_uuid must be the app's UUID, a non-empty string, got {asset_uuid!r}"
        )


def _publish_and_wait(
    transport: Transport, asset_uuid: str, value: bytes | None, timeout: float
) -> None:
    topic = transport.topic_for(METRICS_TARGETS_SOURCE)
    reports: list[DeliveryReport] = []
    transport.publish(topic, asset_uuid, value, reports.append)
    transport.flush(timeout)
    if not reports:
        what = "tombstone" if value is None else "record"
        raise TransportError(
            f"metrics target {what} of {asset_uuid!r} on topic {topic!r} was not delivered "
            f"within {timeout:g} s; check that the Kafka broker is reachable"
        )
    if not reports[0].ok:
        raise reports[0].as_error()
