"""The fan-out layer: follow assets through the asset router and NATS instead of reading the
whole assets topic from Kafka (DESIGN section 3, reference sections 4.7 and 9.5).

``FanOutTransport`` wraps the transport the backends switch chose and serves one asset's
subscriptions from the NATS server ``ASSET_ROUTER_URL`` names for it; publishing stays on Kafka.
``nats_fan_out`` builds one on a real NATS server (needs the ``fanout`` extra, nats-py); the
in-memory backend has its own router and bus (``openfactory.testing.memory.fanout``).
``forwarded_message`` / ``record_from_message`` are the forwarders' message shape, both ways.
The platform library's helpers ``AsyncLoopThread``, ``NATSSubscriber`` and
``get_nats_cluster_url`` are here too.
"""

from __future__ import annotations

from openfactory.fanout.bus import DEFAULT_TIMEOUT, BusConnector, MessageHandler, SubjectBus
from openfactory.fanout.loop import AsyncLoopThread
from openfactory.fanout.messages import (
    FORWARDER_TIMESTAMP,
    KAFKA_TIMESTAMP,
    KAFKA_TIMESTAMP_TYPE,
    asset_subjects,
    check_subject_key,
    forwarded_message,
    record_from_message,
)
from openfactory.fanout.router import (
    ROUTER_ENV,
    AssetRouter,
    AssetRouterError,
    HttpAssetRouter,
    check_router_url,
    get_nats_cluster_url,
    nats_url_from_answer,
)
from openfactory.fanout.subscriber import AssetNATSCallback, NATSSubscriber
from openfactory.fanout.transport import FanOutTransport
from openfactory.transport import Transport

__all__ = [
    "DEFAULT_TIMEOUT",
    "FORWARDER_TIMESTAMP",
    "KAFKA_TIMESTAMP",
    "KAFKA_TIMESTAMP_TYPE",
    "ROUTER_ENV",
    "AssetNATSCallback",
    "AssetRouter",
    "AssetRouterError",
    "AsyncLoopThread",
    "BusConnector",
    "FanOutTransport",
    "HttpAssetRouter",
    "MessageHandler",
    "NATSSubscriber",
    "SubjectBus",
    "asset_subjects",
    "check_router_url",
    "check_subject_key",
    "forwarded_message",
    "get_nats_cluster_url",
    "nats_fan_out",
    "nats_url_from_answer",
    "record_from_message",
]


def nats_fan_out(
    inner: Transport, asset_router_url: str, timeout: float = DEFAULT_TIMEOUT
) -> FanOutTransport:
    """``inner`` with its asset subscriptions served by the NATS servers that the router at
    ``asset_router_url`` names; every wait (router, connection) is bounded by ``timeout`` s.

    Raises ``ConfigurationError`` for a URL that is not ``http(s)://...`` and ``ImportError``
    naming the ``fanout`` extra when nats-py is not installed.
    """
    router = HttpAssetRouter(asset_router_url, timeout)
    # Loaded only here: nats-py is an extra, and apps without a router never need it.
    from openfactory.fanout.nats_client import NatsConnector

    return FanOutTransport(inner, router, NatsConnector(timeout))
