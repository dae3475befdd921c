"""The whole fan-out chain on loopback: a NATS server, the asset router naming it, and the
forwarder from a Kafka cluster's assets topic to it. ``LoopbackFanOut(bootstrap).router_url``
is what an app's ``ASSET_ROUTER_URL`` should hold."""

from __future__ import annotations

from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback.asset_router import LoopbackAssetRouter
from openfactory.testing.loopback.forwarder import AssetForwarder
from openfactory.testing.loopback.nats_server import LoopbackNats


class LoopbackFanOut(Rig):
    """``nats`` (``LoopbackNats``), ``router`` (``LoopbackAssetRouter``) and ``forwarder``
    (``AssetForwarder`` from ``bootstrap_servers``), started and stopped together."""

    __test__ = False

    def __init__(self, bootstrap_servers: str, topic: str | None = None) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.nats = LoopbackNats()
        self._router: LoopbackAssetRouter | None = None
        self._forwarder: AssetForwarder | None = None

    def start(self) -> LoopbackFanOut:
        """Start the server, then the router and the forwarder on it; raises ``TransportError``
        or ``ConfigurationError`` (after stopping what started) if one cannot start."""
        try:
            self.nats.start()
            self._router = LoopbackAssetRouter(self.nats.url).start()
            self._forwarder = AssetForwarder(self.bootstrap_servers, self.nats.url, self.topic)
            self._forwarder.start()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def router(self) -> LoopbackAssetRouter:
        """The asset router; raises ``RuntimeError`` when not started."""
        if self._router is None:
            raise RuntimeError("LoopbackFanOut is not running: call start() or use `with`")
        return self._router

    @property
    def forwarder(self) -> AssetForwarder:
        """The forwarder; raises ``RuntimeError`` when not started."""
        if self._forwarder is None:
            raise RuntimeError("LoopbackFanOut is not running: call start() or use `with`")
        return self._forwarder

    @property
    def router_url(self) -> str:
        """The router's URL: the value of ``ASSET_ROUTER_URL`` for apps on this chain."""
        return self.router.url

    def sync(self, timeout: float = 10.0) -> bool:
        """Wait until everything on the assets topic now was forwarded; False after ``timeout``."""
        return self.forwarder.sync(timeout)

    def stop(self) -> None:
        """Stop the forwarder, the router and the server (idempotent)."""
        if self._forwarder is not None:
            self._forwarder.stop()
            self._forwarder = None
        if self._router is not None:
            self._router.stop()
            self._router = None
        self.nats.stop()
