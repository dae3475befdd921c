"""``AssetProducer``: the platform library's producer of asset records, on this SDK's transports.

Upstream's ``AssetProducer`` is a ``confluent_kafka.Producer`` that flushes after every record.
This one publishes through the transport the backends switch picks (Kafka in production; the
in-memory broker with ``test_mode=True``, a fake ksqlDB client, or under ``--ofa-fake-broker``),
and keeps upstream's promise: ``send_asset_attribute`` returns once the broker acknowledged the
record. It lives here, above the backends switch it uses; ``openfactory.kafka.asset_producer``
and ``openfactory.kafka`` (upstream's paths) hand it out by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol

from openfactory.backends import open_transport
from openfactory.errors import ConfigurationError
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import ASSETS_STREAM, asset_record, encode_json
from openfactory.utils.delivery import deliver


class AttributeLike(Protocol):
    """What ``send_asset_attribute`` reads of an ``AssetAttribute``."""

    @property
    def id(self) -> str | None: ...
    @property
    def value(self) -> Any: ...
    @property
    def tag(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp(self) -> str: ...


class AssetProducer:
    """Publishes asset records (DESIGN.md section 3) on the topic of ksqlDB stream
    ``ASSETS_STREAM``, which it looks up at construction (``topic``).

    ``bootstrap_servers`` defaults to env ``KAFKA_BROKER``; ``test_mode`` and ``transport``
    (keyword-only) choose the transport as for an ``Asset``. Raises ``ConfigurationError``
    without a broker, ``KSQLDBError`` when the topic cannot be looked up.
    """

    def __init__(
        self,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None = None,
        *,
        test_mode: bool = False,
        transport: Transport | None = None,
        delivery_timeout: float = 10.0,
    ) -> None:
        self.ksql = ksqlClient
        self.bootstrap_servers = bootstrap_servers or os.getenv("KAFKA_BROKER")
        self.delivery_timeout = delivery_timeout
        self._owns_transport = transport is None
        self._transport = open_transport(ksqlClient, self.bootstrap_servers, test_mode, transport)
        try:
            self.topic: str = self._transport.topic_for(ASSETS_STREAM)
        except BaseException:
            self.close()
            raise

    def send_asset_attribute(
        self,
        asset_uuid: str,
        asset_attribute: AttributeLike,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish ``asset_attribute`` on the key ``asset_uuid`` and wait for the broker's ack.

        ``attributes`` entries are merged into the record's ``attributes`` after the timestamp.
        Raises ``ConfigurationError`` for a bad uuid, attribute id or ``attributes``;
        ``DeliveryError`` when the record is refused or not acknowledged within
        ``delivery_timeout`` seconds.
        """
        if not isinstance(asset_uuid, str) or not asset_uuid:
            raise ConfigurationError(f"asset_uuid must be a non-empty string, got {asset_uuid!r}")
        attribute_id = getattr(asset_attribute, "id", None)
        if not isinstance(attribute_id, str) or not attribute_id:
            raise ConfigurationError(
                f"the attribute to send needs its id (AssetAttribute(id=...)), got {attribute_id!r}"
            )
        a = asset_attribute
        if attributes is None:
            value = asset_record(attribute_id, a.value, a.tag, a.type, a.timestamp)
        elif isinstance(attributes, Mapping):
            value = encode_json(
                {
                    "ID": attribute_id,
                    "VALUE": a.value,
                    "TAG": a.tag,
                    "TYPE": a.type,
                    "attributes": {"timestamp": a.timestamp, **attributes},
                }
            )
        else:
            raise ConfigurationError(f"attributes must be a mapping or None, got {attributes!r}")
        deliver(self._transport, [(self.topic, asset_uuid, value)], self.delivery_timeout)

    def flush(self, timeout: float = 10.0) -> int:
        """Wait up to ``timeout`` s for queued records; returns how many are still undelivered."""
        return self._transport.flush(timeout).undelivered

    def close(self) -> None:
        """Flush and release the transport this producer opened (idempotent); a transport given
        as ``transport=`` is left open for its owner."""
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> AssetProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
