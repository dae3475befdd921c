"""Registering and deregistering an asset on the wire, as the platform's deployer does.

``register_asset`` publishes what the deployer publishes before an app starts, and
``deregister_asset`` what an app publishes when it stops (reference sections 9.2 and 9.3). Both
open a transport through the backends switch (so ``test_mode=True`` and ``--ofa-fake-broker``
keep them in memory), publish, and return once every record is acknowledged.
``publish_deregistration`` is the same deregistration on a transport the caller already has.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from openfactory import _clock
from openfactory.backends import open_transport
from openfactory.errors import ConfigurationError
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import (
    ASSETS_AVAIL_TABLE,
    ASSETS_STREAM,
    ASSETS_TYPE_TABLE,
    DOCKER_SERVICES_TABLE,
    UNS_MAP_STREAM,
    asset_record,
    encode_json,
    format_timestamp,
)
from openfactory.utils.delivery import OutgoingRecord, deliver

DELIVERY_TIMEOUT = 10.0


def register_asset(
    asset_uuid: str,
    uns: Mapping[str, Any] | None,
    asset_type: str,
    ksqlClient: KSQLDB,
    bootstrap_servers: str | None = None,
    docker_service: str = "",
    *,
    test_mode: bool = False,
    transport: Transport | None = None,
) -> None:
    """Publish, on ``asset_uuid``'s key, ``AssetType`` = ``asset_type``, ``DockerService`` =
    ``docker_service``, empty ``references_below``/``references_above`` and, with a ``uns``, one
    ``UNSLevel`` attribute per level, ``uns_id``, and the asset's row of the UNS map.

    ``uns`` is ``None`` or ``{"levels": {level: value, ...}, "uns_id": str}``.
    ``bootstrap_servers`` defaults to env ``KAFKA_BROKER``. Raises ``ConfigurationError`` on a
    bad argument, ``KSQLDBError`` when a topic cannot be looked up, ``DeliveryError`` when a
    record is not acknowledged.
    """
    _check_uuid(asset_uuid)
    if not isinstance(asset_type, str) or not asset_type:
        raise ConfigurationError(f"asset_type must be a non-empty string, got {asset_type!r}")
    if not isinstance(docker_service, str):
        raise ConfigurationError(f"docker_service must be a string, got {docker_service!r}")
    levels, uns_id = _check_uns(uns)
    with _opened(ksqlClient, bootstrap_servers, test_mode, transport) as opened:
        records = _Records(opened, asset_uuid)
        records.attribute("AssetType", asset_type, "AssetType")
        records.attribute("DockerService", docker_service, "DockerService")
        records.attribute("references_below", "", "AssetsReferences")
        records.attribute("references_above", "", "AssetsReferences")
        if uns_id is not None:
            for level, value in levels.items():
                records.attribute(level, value, "UNSLevel")
            records.attribute("uns_id", uns_id, "UNSId")
            mapping = {"ASSET_UUID": asset_uuid, "UNS_ID": uns_id, "UNS_LEVELS": dict(levels),
                       "UPDATED_AT": _now_ms()}  # fmt: skip
            records.on(UNS_MAP_STREAM, encode_json(mapping))
        records.deliver(DELIVERY_TIMEOUT)


def deregister_asset(
    asset_uuid: str,
    ksqlClient: KSQLDB,
    bootstrap_servers: str | None = None,
    *,
    test_mode: bool = False,
    transport: Transport | None = None,
) -> None:
    """Publish ``asset_uuid``'s deregistration (``publish_deregistration``, ``avail`` =
    ``UNAVAILABLE`` first, as 0.5.3 does) and wait for the broker's acks.

    Raises ``ConfigurationError``, ``KSQLDBError``, ``DeliveryError`` as ``register_asset``.
    """
    _check_uuid(asset_uuid)
    with _opened(ksqlClient, bootstrap_servers, test_mode, transport) as opened:
        publish_deregistration(opened, asset_uuid, unavailable=True)


def publish_deregistration(
    transport: Transport,
    asset_uuid: str,
    *,
    unavailable: bool = True,
    timeout: float = DELIVERY_TIMEOUT,
) -> None:
    """On ``transport``, in order: ``avail`` = ``UNAVAILABLE`` (when ``unavailable``), empty
    ``references_below`` and ``references_above``, tombstones keyed ``asset_uuid`` on the topics
    of ``assets_type``, ``assets_avail`` and ``docker_services``, and the asset's emptied row on
    the UNS map topic; then wait up to ``timeout`` s for the acks.

    Raises ``ConfigurationError`` for a bad uuid, ``KSQLDBError`` when a topic cannot be looked
    up, ``DeliveryError`` when a record is not acknowledged.
    """
    _check_uuid(asset_uuid)
    records = _Records(transport, asset_uuid)
    if unavailable:
        records.attribute("avail", "UNAVAILABLE", "Availability", "Events")
    records.attribute("references_below", "", "AssetsReferences")
    records.attribute("references_above", "", "AssetsReferences")
    for table in (ASSETS_TYPE_TABLE, ASSETS_AVAIL_TABLE, DOCKER_SERVICES_TABLE):
        records.on(table, None)
    emptied = {"asset_uuid": asset_uuid, "uns_id": None, "uns_levels": None,
               "updated_at": _now_ms()}  # fmt: skip
    records.on(UNS_MAP_STREAM, encode_json(emptied))
    records.deliver(timeout)


@contextlib.contextmanager
def _opened(
    ksql_client: KSQLDB,
    bootstrap_servers: str | None,
    test_mode: bool,
    transport: Transport | None,
) -> Iterator[Transport]:
    """The given ``transport``, or one opened (and closed after) by the backends switch."""
    servers = bootstrap_servers or os.getenv("KAFKA_BROKER")
    opened = open_transport(ksql_client, servers, test_mode, transport)
    try:
        yield opened
    finally:
        if transport is None:
            opened.close()


class _Records:
    """The records of one call, all keyed by the asset's UUID, collected then delivered."""

    def __init__(self, transport: Transport, asset_uuid: str) -> None:
        self.transport = transport
        self.asset_uuid = asset_uuid
        self.outgoing: list[OutgoingRecord] = []

    def attribute(
        self, attribute_id: str, value: Any, tag: str, type_: str = "OpenFactory"
    ) -> None:
        record = asset_record(attribute_id, value, tag, type_, format_timestamp())
        self.on(ASSETS_STREAM, record)

    def on(self, source: str, value: bytes | None) -> None:
        """Add a record on the topic of ksqlDB stream or table ``source``."""
        self.outgoing.append((self.transport.topic_for(source), self.asset_uuid, value))

    def deliver(self, timeout: float) -> None:
        deliver(self.transport, self.outgoing, timeout)


def _check_uuid(asset_uuid: object) -> None:
    if not isinstance(asset_uuid, str) or not asset_uuid:
        raise ConfigurationError(f"asset_uuid must be a non-empty string, got {asset_uuid!r}")


def _check_uns(uns: object) -> tuple[Mapping[str, Any], str | None]:
    if uns is None or (isinstance(uns, Mapping) and not uns):
        return {}, None
    levels = uns.get("levels") if isinstance(uns, Mapping) else None
    uns_id = uns.get("uns_id") if isinstance(uns, Mapping) else None
    if (
        not isinstance(levels, Mapping)
        or not all(isinstance(level, str) and level for level in levels)
        or not isinstance(uns_id, str)
        or not uns_id
    ):
        raise ConfigurationError(
            f'uns must be None or {{"levels": {{level: value, ...}}, "uns_id": "..."}}, got {uns!r}'
        )
    return levels, uns_id


def _now_ms() -> int:
    return _clock.time_ns() // 1_000_000
