"""``FanOutTransport``: an app's reads of asset records through the fan-out layer.

It wraps the transport the backends switch chose (Kafka, or in memory) and keeps it for
everything but one thing: a subscription to one asset's records on the assets topic comes from
the NATS server the asset router names for that asset (subjects ``<asset uuid>.>``), converted
back into the asset record the SDK expects (``openfactory.fanout.messages``). Publishing,
queries, flushes and every other subscription go to the wrapped transport: Kafka stays the
source of truth, and the app no longer reads the whole assets topic to follow a few assets.
"""

from __future__ import annotations

import logging

from typing_extensions import override

from openfactory import _clock
from openfactory.errors import ConfigurationError
from openfactory.fanout.bus import BusConnector, SubjectBus
from openfactory.fanout.messages import asset_subjects, record_from_message
from openfactory.fanout.router import AssetRouter
from openfactory.transport import (
    DelegatingTransport,
    RecordCallback,
    Subscription,
    Transport,
    check_subscribe,
)
from openfactory.transport.wire import ASSETS_STREAM

logger = logging.getLogger("openfactory.fanout")


class FanOutTransport(DelegatingTransport):
    """``inner`` for publishing and queries; per-asset subscriptions on the assets topic from
    the NATS server ``router`` names, reached through ``connector``.

    The router is asked once per asset and each server connected once per transport (the
    connector shares connections between transports). Callbacks run where the bus delivers:
    inline for the in-memory bus, on the connection's thread for NATS. The records a
    subscription gets are those the forwarder publishes after it is made: one that reached
    Kafka before it but was forwarded after (the forwarder lagging) is delivered too. Records
    come back with the forwarder's timestamps in ``attributes`` and no Kafka offset (-1).
    """

    def __init__(self, inner: Transport, router: AssetRouter, connector: BusConnector) -> None:
        """Raises ``ConfigurationError`` if ``inner`` is not a ``Transport``."""
        if not isinstance(inner, Transport):
            raise ConfigurationError(
                f"FanOutTransport wraps a Transport, got {type(inner).__name__}"
            )
        super().__init__(inner)
        self.router = router
        self.inline_delivery = connector.inline_delivery
        self._connector = connector
        self._servers: dict[str, str] = {}  # asset uuid -> NATS server URL, as the router said
        self._buses: dict[str, SubjectBus] = {}

    # what goes through the fan-out layer ------------------------------------------------
    @override
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """One asset's records on the assets topic from NATS; anything else from the wrapped
        transport.

        Raises ``TransportError`` (closed, or a NATS server that does not answer),
        ``ConfigurationError`` (a UUID NATS subjects cannot carry), and the router's errors:
        ``OFAConfigurationException`` (unreachable) and ``AssetRouterError`` (no server named).
        """
        check_subscribe(topic, key, callback, self._closed)
        if key is None or topic != self.topic_for(ASSETS_STREAM):
            return self.inner.subscribe(topic, key, callback)
        subject = asset_subjects(key)
        subscription = _FanOutSubscription(self, topic, key, callback)
        with self._lock:
            bus = self._bus_for(key)
            subscription.inner = bus.subscribe(subject, subscription.deliver)
        return self._track(subscription)

    def server_of(self, asset_uuid: str) -> str:
        """The NATS server URL the router named for ``asset_uuid`` (asked once, then kept).

        Raises the router's errors (see ``subscribe``).
        """
        with self._lock:
            url = self._servers.get(asset_uuid)
            if url is None:
                url = self._servers[asset_uuid] = self.router.nats_url(asset_uuid)
            return url

    def _bus_for(self, asset_uuid: str) -> SubjectBus:
        url = self.server_of(asset_uuid)
        bus = self._buses.get(url)
        if bus is None:
            bus = self._buses[url] = self._connector.acquire(url)
        return bus

    @override
    def close(self) -> None:
        """Stop the fan-out subscriptions, give back the NATS connections, close ``inner``."""
        if self._closed:
            return
        # close_timeout is this transport's (an app's shutdown lowers it to what is left of its
        # budget): closing inner, which flushes, gets what is left of it.
        deadline = _clock.monotonic() + self.close_timeout
        try:
            super().close()  # the subscriptions made here
            with self._lock:
                buses, self._buses = list(self._buses.values()), {}
            for bus in buses:
                self._connector.release(bus)
        finally:
            self.inner.close_timeout = max(deadline - _clock.monotonic(), 0.0)
            self.inner.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"FanOutTransport({self.inner!r} via {self.router!r}, {state})"


class _FanOutSubscription(Subscription):
    """One asset's subscription on a bus: converts each message back into an asset record."""

    def __init__(
        self, owner: FanOutTransport, topic: str, key: str, callback: RecordCallback
    ) -> None:
        self.owner = owner
        self.topic = topic
        self.key = key
        self.callback = callback
        self.inner: Subscription | None = None
        self.active = True

    def deliver(self, subject: str, data: bytes) -> None:
        if not self.active:
            return
        record = record_from_message(self.topic, self.key, subject, data)
        if record is None:
            logger.warning(
                "asset %s: ignoring a message on %r that is no asset record: %r",
                self.key,
                subject,
                data[:120],
            )
            return
        self.callback(record)

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        if self.inner is not None:
            self.inner.stop()
        self.owner._forget(self)

    def __repr__(self) -> str:
        state = "active" if self.active else "stopped"
        return f"FanOutSubscription({self.key!r}, {state})"
