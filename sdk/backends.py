"""The backends switch: which transport an app or asset runs on, decided in one place.

The transport interface (``openfactory.transport``) knows nothing of its implementations; this
module, above both backends, picks one for each ``Asset``/``OpenFactoryApp`` being built:

1. an explicit ``transport=`` (keyword-only on ``Asset`` and ``OpenFactoryApp``) is used as given;
2. else an active override (``with override_transport(factory):``, entered by
   ``--ofa-fake-broker`` and ``ofa-dev run``) builds it;
3. else ``test_mode=True``, or a ``ksqlClient`` that is an in-memory fake ksqlDB: the in-memory
   backend (on that fake's broker, else on the process-wide embedded one);
4. else Kafka at ``bootstrap_servers``.

Then, for 2 to 4, when an asset router is configured (``asset_router_url``, else env
``ASSET_ROUTER_URL`` outside test mode), the transport is wrapped in the fan-out layer
(``openfactory.fanout``): the asset's subscriptions come from NATS, publishing stays on the
transport chosen above. An in-memory transport gets the in-memory router and bus
(``openfactory.testing.memory.fanout``), any other one the real router over HTTP and NATS (the
``fanout`` extra). An explicit ``transport=`` is used as given, never wrapped.

Process-wide state of every backend (the override, the embedded in-memory world, the Kafka
producers and readers shared per configuration, the NATS connections) is cleared by one
``reset()``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

from openfactory.errors import ConfigurationError
from openfactory.transport import KSQLDB, Transport

TransportFactory = Callable[["KSQLDB | None", "str | None"], Transport]
"""``factory(ksql_client, bootstrap_servers) -> Transport``: what an override builds with."""

_lock = threading.Lock()
_override: TransportFactory | None = None


@contextlib.contextmanager
def override_transport(factory: TransportFactory) -> Iterator[TransportFactory]:
    """Route every app and asset built inside the ``with`` block through ``factory``.

    Nested overrides stack; leaving the block restores the previous one. An explicit
    ``transport=`` still wins. Raises ``ConfigurationError`` if ``factory`` is not callable.
    """
    if not callable(factory):
        raise ConfigurationError(f"transport override must be callable, got {factory!r}")
    previous = _swap_override(factory)
    try:
        yield factory
    finally:
        _swap_override(previous)


def active_override() -> TransportFactory | None:
    """The override in force (innermost ``override_transport`` block), or ``None``."""
    return _override


def open_transport(
    ksql_client: KSQLDB | None,
    bootstrap_servers: str | None,
    test_mode: bool = False,
    transport: Transport | None = None,
    asset_router_url: str | None = None,
) -> Transport:
    """The transport for an asset built with these constructor arguments (see module docs).

    Raises ``ConfigurationError`` for a ``transport`` that is not a ``Transport``, when Kafka
    is needed but no ``bootstrap_servers`` (or ``KAFKA_BROKER``) was given, or for an asset
    router URL that is not ``http(s)://...``.
    """
    if transport is not None:
        if not isinstance(transport, Transport):
            raise ConfigurationError(
                f"transport= must be an openfactory.transport.Transport, "
                f"got {type(transport).__name__}"
            )
        return transport
    chosen = _choose(ksql_client, bootstrap_servers, test_mode)
    # As Asset reads it (openfactory.assets.asset_base.endpoints): the platform reads no
    # environment in test mode.
    router_url = asset_router_url or (None if test_mode else os.getenv("ASSET_ROUTER_URL"))
    if not router_url:
        return chosen
    try:
        return _fan_out(chosen, router_url)
    except BaseException:
        chosen.close()  # nothing may keep a producer of a transport that was never handed out
        raise


def _choose(
    ksql_client: KSQLDB | None, bootstrap_servers: str | None, test_mode: bool
) -> Transport:
    factory = _override
    if factory is not None:
        return factory(ksql_client, bootstrap_servers)
    from openfactory.testing.memory import FakeKSQLDB, in_memory_transport

    if test_mode or isinstance(ksql_client, FakeKSQLDB):
        return in_memory_transport(ksql_client)
    if not bootstrap_servers:
        raise ConfigurationError(
            "no Kafka broker configured: pass bootstrap_servers='host:port' or set KAFKA_BROKER "
            "(use test_mode=True or the in-memory broker of openfactory.testing for tests)"
        )
    if ksql_client is None:
        raise ConfigurationError("a Kafka transport needs a ksqlDB client (ksqlClient=...)")
    from openfactory.kafka.transport import KafkaTransport

    return KafkaTransport(bootstrap_servers, ksql_client)


def _fan_out(chosen: Transport, router_url: str) -> Transport:
    from openfactory.testing.memory import InMemoryTransport

    if isinstance(chosen, InMemoryTransport):
        from openfactory.testing.memory.fanout import in_memory_fan_out

        return in_memory_fan_out(chosen, router_url)
    from openfactory.fanout import nats_fan_out

    return nats_fan_out(chosen, router_url)


def reset() -> None:
    """Forget every process-wide registry: the override, the embedded in-memory world, the
    Kafka producers and readers shared per configuration and the NATS connections shared per
    server (closing them)."""
    _swap_override(None)
    # Only backends already loaded hold state; importing one here would cost its start-up.
    memory = sys.modules.get("openfactory.testing.memory.embedded")
    if memory is not None:
        memory.reset_embedded()
    kafka = sys.modules.get("openfactory.kafka.transport")
    if kafka is not None:
        kafka.reset_kafka_clients()
    nats = sys.modules.get("openfactory.fanout.nats_client")
    if nats is not None:
        nats.reset_connections()


def set_transport_override(factory: TransportFactory | None) -> TransportFactory | None:
    """Deprecated: use ``with override_transport(factory):``. Sets the override, returns the
    previous one."""
    warnings.warn(
        "set_transport_override() is deprecated: use `with openfactory.backends."
        "override_transport(factory):`, which restores the previous override on exit",
        DeprecationWarning,
        stacklevel=2,
    )
    return _swap_override(factory)


def transport_override() -> TransportFactory | None:
    """Deprecated alias of ``active_override()``."""
    return _override


def _swap_override(factory: TransportFactory | None) -> TransportFactory | None:
    global _override
    with _lock:
        previous, _override = _override, factory
    return previous
