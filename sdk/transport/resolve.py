"""Choose the transport an app or asset runs on: the one process-wide, resettable switch.

Order: a ksqlDB client that brings its own broker (the fake ``FakeKSQLDB``) keeps it; then an
active override (``--ofa-fake-broker``, ``ofa-dev run``) routes everything else in memory; then
``test_mode=True`` (the embedded in-memory broker); otherwise Kafka at ``bootstrap_servers``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openfactory.errors import ConfigurationError
from openfactory.transport.base import Transport

TransportFactory = Callable[[Any, "str | None"], Transport]

_override: TransportFactory | None = None


def set_transport_override(factory: TransportFactory | None) -> TransportFactory | None:
    """Route every app and asset built from now on through ``factory`` (``None`` resets).

    Returns the previous override so callers can restore it.
    """
    global _override
    previous, _override = _override, factory
    return previous


def transport_override() -> TransportFactory | None:
    """The active override, or ``None``."""
    return _override


def open_transport(ksql_client: Any, bootstrap_servers: str | None, test_mode: bool) -> Transport:
    """Open the transport for an asset built with these constructor arguments.

    Raises ``ConfigurationError`` when a production transport is needed but no
    ``bootstrap_servers`` (or ``KAFKA_BROKER``) was given.
    """
    opener = getattr(ksql_client, "open_transport", None)
    if callable(opener):
        transport = opener()
        if not isinstance(transport, Transport):
            raise ConfigurationError(
                f"{type(ksql_client).__name__}.open_transport() returned "
                f"{type(transport).__name__}, expected an openfactory Transport"
            )
        return transport
    if _override is not None:
        return _override(ksql_client, bootstrap_servers)
    if test_mode:
        from openfactory.testing.embedded import embedded_transport

        return embedded_transport()
    if not bootstrap_servers:
        raise ConfigurationError(
            "no Kafka broker configured: pass bootstrap_servers='host:port' or set KAFKA_BROKER "
            "(use test_mode=True or the in-memory broker of openfactory.testing for tests)"
        )
    from openfactory.kafka.transport import KafkaTransport

    return KafkaTransport(bootstrap_servers, ksql_client)
