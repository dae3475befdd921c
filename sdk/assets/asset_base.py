"""``BaseAsset``: the platform library's abstract base of ``Asset`` and ``AssetUNS``
(``openfactory.assets.asset_base``)."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

__all__ = ["BaseAsset"]


def endpoints(
    bootstrap_servers: str | None, asset_router_url: str | None, test_mode: bool
) -> tuple[str | None, str | None]:
    """The broker and asset router an asset is built with: outside test mode, ``None`` means
    env ``KAFKA_BROKER`` / ``ASSET_ROUTER_URL`` (the platform reads neither in test mode)."""
    if not test_mode:
        if bootstrap_servers is None:
            bootstrap_servers = os.getenv("KAFKA_BROKER")
        if asset_router_url is None:
            asset_router_url = os.getenv("ASSET_ROUTER_URL")
    return bootstrap_servers, asset_router_url


class BaseAsset:
    """A view of one asset's attributes: read from ksqlDB table ``KSQL_ASSET_TABLE`` where
    column ``KSQL_ASSET_ID`` is the instance's ``ASSET_ID``, kept current from the broker,
    written on the asset's key.

    Abstract: build an ``Asset`` (by asset UUID) or an ``AssetUNS`` (by UNS id); building a
    ``BaseAsset`` itself raises ``TypeError``. Code written for the platform uses it in type
    hints and ``isinstance`` checks. The platform's ``ASSET_CONSUMER_CLASS`` (its Kafka
    consumer class) has no counterpart: this SDK's views receive records through their
    transport.
    """

    KSQL_ASSET_TABLE: ClassVar[str]
    KSQL_ASSET_ID: ClassVar[str]
    ASSET_ID: str

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        if cls is BaseAsset:
            raise TypeError(
                "BaseAsset is abstract: build Asset(asset_uuid, ksqlClient, ...) or "
                "AssetUNS(uns_id, ksqlClient, ...)"
            )
        return super().__new__(cls)
