"""The fan-out layer in memory: a forwarder, an asset router and NATS servers per fake broker.

What runs on a cluster as three services, here in one deterministic object per ``FakeBroker``
(``fanout_of(broker)``): the forwarder turns every record of the assets topic into the message
the platform's forwarders publish (``openfactory.fanout.forwarded_message``) and hands it, as it
is appended, to the in-memory NATS server the router names for its key; subscribers get it
inline, before ``publish`` returns, like every subscriber of the in-memory broker.

The backends switch wraps an in-memory transport with ``in_memory_fan_out`` when an asset
router is configured, so ``test_mode``, the harness and ``--ofa-fake-broker`` run apps that
were given ``ASSET_ROUTER_URL`` through the same ``FanOutTransport`` as production. Tests can
change the router's answers (``route``, ``router_reachable``) to reach the error paths.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from typing import Any

from typing_extensions import override

from openfactory.errors import TransportError
from openfactory.fanout import (
    AssetRouter,
    BusConnector,
    FanOutTransport,
    MessageHandler,
    SubjectBus,
    check_router_url,
    forwarded_message,
    nats_url_from_answer,
)
from openfactory.fanout.router import router_unreachable
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.transport import InMemoryTransport
from openfactory.transport import Record, Subscription
from openfactory.transport.wire import ASSETS_STREAM

logger = logging.getLogger("openfactory.testing.memory.fanout")

#: A router URL for tests: in memory any ``http(s)://`` URL reaches the in-memory router.
MEMORY_ROUTER_URL = "http://asset-router.in-memory:8000"
#: The NATS server the in-memory router names unless told otherwise.
MEMORY_NATS_URL = "nats://nats.in-memory:4222"


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS matching: ``*`` stands for one token, a final ``>`` for one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)


class InMemoryNatsServer(SubjectBus):
    """A NATS server in memory: ``publish`` calls every matching subscriber before returning."""

    inline_delivery = True

    def __init__(self, url: str) -> None:
        self.url = url
        #: Messages published on this server.
        self.published = 0
        self._lock = threading.Lock()
        # "<literal>.>" patterns (one per followed asset) by literal: a dict look-up per
        # prefix of the subject instead of matching every pattern.
        self._by_prefix: dict[str, tuple[_MemorySubscription, ...]] = {}
        self._other: tuple[_MemorySubscription, ...] = ()
        self._closed = False

    @override
    def publish(self, subject: str, data: bytes) -> None:
        if self._closed:
            raise TransportError(f"the in-memory NATS server {self.url} is closed")
        self.published += 1
        for subscription in self._matching(subject):
            if not subscription.active:
                continue
            try:
                subscription.on_message(subject, data)
            except Exception:
                # A failing subscriber must not stop delivery to the others.
                logger.exception("subscriber %r raised on a message of %r", subscription, subject)

    def _matching(self, subject: str) -> list[_MemorySubscription]:
        found = [s for s in self._other if subject_matches(s.subject, subject)]
        by_prefix = self._by_prefix
        end = subject.find(".")
        while end > 0:
            found.extend(by_prefix.get(subject[:end], ()))
            end = subject.find(".", end + 1)
        return found

    @override
    def subscribe(self, subject: str, on_message: MessageHandler) -> Subscription:
        if self._closed:
            raise TransportError(f"the in-memory NATS server {self.url} is closed")
        subscription = _MemorySubscription(self, subject, on_message)
        prefix = _literal_prefix(subject)
        with self._lock:
            if prefix is None:
                self._other = (*self._other, subscription)
            else:
                self._by_prefix[prefix] = (*self._by_prefix.get(prefix, ()), subscription)
        return subscription

    def _remove(self, subscription: _MemorySubscription) -> None:
        prefix = _literal_prefix(subscription.subject)
        with self._lock:
            if prefix is None:
                self._other = tuple(s for s in self._other if s is not subscription)
                return
            left = tuple(s for s in self._by_prefix.get(prefix, ()) if s is not subscription)
            if left:
                self._by_prefix[prefix] = left
            else:
                self._by_prefix.pop(prefix, None)

    def subscriptions(self) -> list[str]:
        """The subject patterns subscribed on this server now (one per live subscription)."""
        with self._lock:
            live = [*self._other, *(s for group in self._by_prefix.values() for s in group)]
        return sorted(s.subject for s in live)

    @override
    def close(self) -> None:
        """Stop every subscription; publishing afterwards raises ``TransportError``."""
        with self._lock:
            live = [*self._other, *(s for group in self._by_prefix.values() for s in group)]
            self._other, self._by_prefix, self._closed = (), {}, True
        for subscription in live:
            subscription.active = False

    def __repr__(self) -> str:
        return f"InMemoryNatsServer({self.url!r})"


def _literal_prefix(pattern: str) -> str | None:
    if pattern.endswith(".>") and "*" not in pattern and ">" not in pattern[:-2]:
        return pattern[:-2]
    return None


class _MemorySubscription(Subscription):
    def __init__(self, server: InMemoryNatsServer, subject: str, on_message: MessageHandler):
        self.server = server
        self.subject = subject
        self.on_message = on_message
        self.active = True

    def stop(self) -> None:
        if self.active:
            self.active = False
            self.server._remove(self)

    def __repr__(self) -> str:
        return f"MemorySubscription({self.subject!r} on {self.server.url})"


class RouterAnswers:
    """What an asset router answers: ``(HTTP status, body)`` per asset UUID, by default ``200``
    and ``{"asset_id", "cluster_name", "nats_url"}`` naming ``nats_url``. ``requests`` lists the
    UUIDs asked about, in order. Thread-safe; the in-memory layer and the loopback router share it.
    """

    def __init__(self, cluster_name: str, nats_url: str) -> None:
        self.cluster_name = cluster_name
        self.nats_url = nats_url
        #: Asset UUIDs asked about (with ``answer``), in order.
        self.requests: list[str] = []
        self._routes: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def route(
        self,
        asset_uuid: str,
        nats_url: str | None = None,
        *,
        status: int = 200,
        answer: Any = None,
    ) -> None:
        """Answer ``status`` and ``answer`` about ``asset_uuid`` from now on: bytes as they are,
        anything else as JSON, ``None`` as the default answer naming ``nats_url`` (else this
        router's server). Raises ``TypeError`` for an answer JSON cannot encode."""
        if answer is None:
            answer = self._default(asset_uuid, nats_url or self.nats_url)
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        with self._lock:
            self._routes[asset_uuid] = (status, body)

    def answer(self, asset_uuid: str) -> tuple[int, bytes]:
        """``(HTTP status, body)`` answered about ``asset_uuid``, counted in ``requests``."""
        with self._lock:
            self.requests.append(asset_uuid)
            routed = self._routes.get(asset_uuid)
        if routed is not None:
            return routed
        return 200, json.dumps(self._default(asset_uuid, self.nats_url)).encode()

    def routed(self, asset_uuid: str) -> tuple[int, bytes] | None:
        """What ``route`` set for ``asset_uuid`` (``None`` if nothing), not counted as asked."""
        with self._lock:
            return self._routes.get(asset_uuid)

    def _default(self, asset_uuid: str, nats_url: str) -> dict[str, str]:
        return {"asset_id": asset_uuid, "cluster_name": self.cluster_name, "nats_url": nats_url}


class InMemoryFanOut:
    """The fan-out layer of one fake broker: forwarder, asset router and NATS servers.

    Every asset is served by ``MEMORY_NATS_URL`` unless ``route`` says otherwise.
    """

    def __init__(self) -> None:
        self.servers: dict[str, InMemoryNatsServer] = {}
        self.default_server = self.add_server(MEMORY_NATS_URL)
        #: False: every router look-up fails as an unreachable router does.
        self.router_reachable = True
        self._answers = RouterAnswers("in-memory", MEMORY_NATS_URL)
        #: Asset UUIDs the router was asked about, in order.
        self.router_requests = self._answers.requests
        #: Records of the assets topic forwarded so far.
        self.forwarded = 0
        self.connector = _MemoryConnector(self)
        self._forwarding: set[str] = set()
        self._lock = threading.Lock()

    def add_server(self, url: str) -> InMemoryNatsServer:
        """The in-memory NATS server at ``url`` (made if new)."""
        with_server = self.servers.get(url)
        if with_server is None:
            with_server = self.servers[url] = InMemoryNatsServer(url)
        return with_server

    def route(
        self,
        asset_uuid: str,
        nats_url: str | None = None,
        *,
        status: int = 200,
        answer: Any = None,
    ) -> None:
        """Make the router answer ``status`` and ``answer`` (any JSON; by default
        ``{"asset_id", "cluster_name", "nats_url": nats_url}``) about ``asset_uuid``. A server
        named here that was never added does not answer, as a NATS server that is down."""
        self._answers.route(asset_uuid, nats_url, status=status, answer=answer)

    def answer(self, asset_uuid: str) -> tuple[int, bytes]:
        """What the router answers about ``asset_uuid``: ``(HTTP status, body)``."""
        return self._answers.answer(asset_uuid)

    def router(self, url: str) -> InMemoryAssetRouter:
        """This layer's router as reached at ``url`` (``ConfigurationError`` if not http(s))."""
        return InMemoryAssetRouter(self, url)

    def forward(self, broker: FakeBroker, topic: str) -> None:
        """Forward every record appended to ``topic`` of ``broker`` from now on (once per topic)."""
        with self._lock:
            if topic in self._forwarding:
                return
            self._forwarding.add(topic)
        # The broker keeps this layer alive through the subscription, never the reverse:
        # fanout_of() holds the broker weakly, and a test's broker must be able to go.
        broker.subscribe(topic, None, self._forward)

    def _forward(self, record: Record) -> None:
        # The fake broker stamps records as it appends them: a broker timestamp.
        message = forwarded_message(record, timestamp_type="broker")
        if message is None or record.key is None:
            return
        self.forwarded += 1
        subject, data = message
        self._server_of(record.key).publish(subject, data)

    def _server_of(self, asset_uuid: str) -> InMemoryNatsServer:
        # The forwarder publishes where the router sends subscribers (on a cluster both hash
        # the key the same way); without a usable route, on the default server.
        routed = self._answers.routed(asset_uuid)
        if routed is not None:
            try:
                answer = json.loads(routed[1])
                server = self.servers.get(answer.get("nats_url"))
            except (ValueError, AttributeError, TypeError):
                server = None
            if server is not None:
                return server
        return self.default_server

    def __repr__(self) -> str:
        return f"InMemoryFanOut(servers={sorted(self.servers)}, forwarded={self.forwarded})"


class InMemoryAssetRouter(AssetRouter):
    """The in-memory layer's router, reached at ``url``; answers as ``InMemoryFanOut.route``
    says, read as the HTTP router's answers are (``nats_url_from_answer``)."""

    def __init__(self, fanout: InMemoryFanOut, url: str) -> None:
        self.url = check_router_url(url)
        self.fanout = fanout

    def nats_url(self, asset_uuid: str) -> str:
        """See ``AssetRouter.nats_url``."""
        if not self.fanout.router_reachable:
            raise router_unreachable(self.url, asset_uuid, "in-memory router set unreachable")
        status, body = self.fanout.answer(asset_uuid)
        return nats_url_from_answer(asset_uuid, self.url, status, body)

    def __repr__(self) -> str:
        return f"InMemoryAssetRouter({self.url!r})"


class _MemoryConnector(BusConnector):
    inline_delivery = True

    def __init__(self, fanout: InMemoryFanOut) -> None:
        self.fanout = fanout

    def acquire(self, url: str) -> SubjectBus:
        server = self.fanout.servers.get(url)
        if server is None:
            raise TransportError(
                f"the NATS server {url!r} did not answer (in memory: no such server; known: "
                f"{', '.join(sorted(self.fanout.servers))}); it is the server the asset router "
                "(ASSET_ROUTER_URL) named"
            )
        return server

    def release(self, bus: SubjectBus) -> None:
        # In-memory servers live as long as their broker.
        pass


_lock = threading.Lock()
_layers: weakref.WeakKeyDictionary[FakeBroker, InMemoryFanOut] = weakref.WeakKeyDictionary()


def fanout_of(broker: FakeBroker) -> InMemoryFanOut:
    """The in-memory fan-out layer of ``broker`` (made on first use, gone with the broker)."""
    with _lock:
        layer = _layers.get(broker)
        if layer is None:
            layer = _layers[broker] = InMemoryFanOut()
        return layer


def in_memory_fan_out(inner: InMemoryTransport, asset_router_url: str) -> FanOutTransport:
    """``inner`` with its asset subscriptions served by its broker's in-memory fan-out layer.

    Raises ``ConfigurationError`` for a router URL that is not ``http(s)://...``.
    """
    layer = fanout_of(inner.broker)
    router = layer.router(asset_router_url)
    layer.forward(inner.broker, inner.topic_for(ASSETS_STREAM))
    return FanOutTransport(inner, router, layer.connector)
