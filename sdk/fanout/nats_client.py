"""The fan-out layer on a real NATS server, through nats-py: the one module that imports it.

``NatsBus`` is one connection: its coroutines run on an ``AsyncLoopThread`` and messages are
handed to a dispatch thread of its own, so a callback may block, subscribe or stop a
subscription without stalling the connection. Subscriptions to the same subject share one
subscription on the server (an asset's state feed and its ``subscribe_to_*`` feeds, several
views of one asset): the server sends each message once, the bus hands it to each of them.
``NatsConnector`` shares one connection per server URL in the process; ``reset_connections()``
closes them (``openfactory.backends.reset``).

Connecting is a bounded wait (``timeout``): a server that never answers raises
``TransportError`` instead of hanging. Once connected, the client reconnects without end,
as the platform's subscribers do, and every connection failure is logged (never silent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import threading
from typing import Any

from typing_extensions import override

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError, TransportError
from openfactory.fanout.bus import DEFAULT_TIMEOUT, BusConnector, MessageHandler, SubjectBus
from openfactory.fanout.loop import AsyncLoopThread
from openfactory.transport import Subscription

try:
    from nats import errors as nats_errors
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription as NatsSubscriptionHandle
except ModuleNotFoundError as _missing:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "the fan-out layer (asset_router_url / ASSET_ROUTER_URL) needs nats-py, which is not "
        "installed: pip install 'openfactory-app-sdk[fanout]', or unset ASSET_ROUTER_URL to "
        "read Kafka directly"
    ) from _missing

logger = logging.getLogger("openfactory.fanout.nats")

SCHEMES = ("nats://", "tls://")
# What nats-py gives a single connection attempt (the platform's subscribers use 2 s).
_ATTEMPT_TIMEOUT = 2
_RECONNECT_WAIT = 1
# Messages held for one subscription before the server counts it as slow and drops some: as
# many as nats-py's default, well above what an app follows.
_PENDING_LIMIT = 512 * 1024


def check_nats_url(url: object) -> str:
    """``url`` if it names a NATS server (``nats://host:port`` or ``tls://``), else
    ``ConfigurationError``."""
    if isinstance(url, str) and url.startswith(SCHEMES) and len(url) > len("nats://"):
        return url
    raise ConfigurationError(
        f"the asset router named NATS server {url!r}; expected a URL such as "
        "'nats://nats-cluster-1:4222' (schemes: nats://, tls://)"
    )


class NatsBus(SubjectBus):
    """One connection to the NATS server at ``url`` (see the module docs)."""

    inline_delivery = False

    def __init__(
        self, url: str, loop: AsyncLoopThread, timeout: float = DEFAULT_TIMEOUT, name: str = ""
    ) -> None:
        """Connect; raises ``ConfigurationError`` for a bad URL and ``TransportError`` when
        the server does not answer within ``timeout`` seconds."""
        self.url = check_nats_url(url)
        self.timeout = timeout
        # nats-py takes whole seconds here.
        self._flush_timeout = max(1, math.ceil(timeout))
        self._loop = loop
        self._client = Client()
        self._closed = False
        self._connected_once = False
        self._last_error: BaseException | None = None
        self._groups: dict[str, _SubjectGroup] = {}
        # Held while (un)subscribing, a server round trip: a second subscription to a subject
        # joins the first only once the server has it.
        self._lock = threading.Lock()
        self._inbox: queue.SimpleQueue[tuple[_SubjectGroup, int, str, bytes] | None] = (
            queue.SimpleQueue()
        )
        try:
            loop.run(self._connect(name or "openfactory-app-sdk"), timeout + 1.0)
        except (TimeoutError, OSError, nats_errors.Error) as err:
            self._close_client()
            cause = self._last_error or err
            raise TransportError(
                f"the NATS server {self.url!r} did not answer within {timeout}s ({cause!r}); "
                "it is the server the asset router (ASSET_ROUTER_URL) named: check that it runs "
                "and is reachable from here"
            ) from err
        self._dispatcher = start_background_thread(self._dispatch, name=f"openfactory-nats[{url}]")

    # connection -------------------------------------------------------------------------
    async def _connect(self, name: str) -> None:
        try:
            await asyncio.wait_for(
                self._client.connect(
                    servers=[self.url],
                    name=name,
                    connect_timeout=_ATTEMPT_TIMEOUT,
                    reconnect_time_wait=_RECONNECT_WAIT,
                    max_reconnect_attempts=-1,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                ),
                self.timeout,
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await self._client.close()
            raise
        self._connected_once = True

    async def _on_error(self, error: Exception) -> None:
        self._last_error = error
        if self._connected_once and not self._closed:
            logger.error("NATS connection to %s failed: %r (reconnecting)", self.url, error)

    async def _on_disconnected(self) -> None:
        if self._connected_once and not self._closed:
            logger.warning("disconnected from NATS server %s; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        logger.warning("reconnected to NATS server %s", self.url)

    @property
    def connected(self) -> bool:
        """True while the connection is up (False while reconnecting or once closed)."""
        return bool(self._client.is_connected)

    @property
    def received(self) -> int:
        """Messages this connection received from the server since it was opened."""
        return int(self._client.stats["in_msgs"])

    # publish / subscribe ----------------------------------------------------------------
    @override
    def publish(self, subject: str, data: bytes) -> None:
        self.publish_many([(subject, data)])

    def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Send each ``(subject, data)`` in order, with one hand-over to the connection's loop,
        and wait until they are written to the server (bounded by ``timeout``).

        Raises ``TransportError`` if the bus is closed or the server does not take them.
        """
        self._check_open()

        async def send() -> None:
            for subject, data in messages:
                await self._client.publish(subject, data)
            await self._client.flush(self._flush_timeout)

        try:
            self._loop.run(send(), self.timeout + 1.0)
        except (TimeoutError, nats_errors.Error) as err:
            raise TransportError(
                f"cannot publish {len(messages)} message(s) to NATS {self.url}: {err!r}"
            ) from err

    @override
    def subscribe(self, subject: str, on_message: MessageHandler) -> Subscription:
        subscription = _NatsSubscription(self, subject, on_message)
        with self._lock:
            self._check_open()
            group = self._groups.get(subject)
            try:
                if group is None:
                    group = _SubjectGroup(subject)
                    group.handle = self._loop.run(self._subscribe(group), self.timeout + 1.0)
                    self._groups[subject] = group
                else:
                    # What the server routed here before this round trip counts as published
                    # before this subscription: it starts after those.
                    self._loop.run(self._round_trip(subject), self.timeout + 1.0)
            except (TimeoutError, nats_errors.Error) as err:
                raise TransportError(
                    f"cannot subscribe to {subject!r} on NATS {self.url}: {err!r}"
                ) from err
            subscription.start = group.received
            subscription.group = group
            group.members = (*group.members, subscription)
        return subscription

    async def _subscribe(self, group: _SubjectGroup) -> NatsSubscriptionHandle:
        inbox = self._inbox

        async def handle(message: Msg) -> None:
            group.received += 1
            inbox.put((group, group.received, message.subject, message.data))

        handle_ = await self._client.subscribe(
            group.subject, cb=handle, pending_msgs_limit=_PENDING_LIMIT
        )
        # The server has the subscription once this round trip is back, so a message
        # published after subscribe() returns is delivered.
        await self._round_trip(group.subject)
        return handle_

    async def _round_trip(self, subject: str) -> None:
        try:
            await self._client.flush(self._flush_timeout)
        except (TimeoutError, nats_errors.Error) as err:
            logger.warning(
                "subscribed to %r on %s while the connection is down (%r): messages arrive "
                "once it is back",
                subject,
                self.url,
                err,
            )

    def _unsubscribe(self, subscription: _NatsSubscription) -> None:
        with self._lock:
            group = subscription.group
            if group is None or subscription not in group.members:
                return
            group.members = tuple(m for m in group.members if m is not subscription)
            if group.members:
                return
            del self._groups[group.subject]
            if self._closed or group.handle is None:
                return
            try:
                self._loop.run(group.handle.unsubscribe(), self.timeout)
            except (TimeoutError, nats_errors.Error, TransportError) as err:
                # Stopped on our side already: nothing more reaches the callbacks.
                logger.debug("unsubscribing %r from %s: %r", group.subject, self.url, err)

    def _dispatch(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            group, number, subject, data = item
            for subscription in group.members:
                if not subscription.active or number <= subscription.start:
                    continue
                try:
                    subscription.on_message(subject, data)
                except Exception:
                    # A failing subscriber must not stop delivery to itself or the others.
                    logger.exception(
                        "subscriber %r raised on a message of %r", subscription, subject
                    )

    def _check_open(self) -> None:
        if self._closed:
            raise TransportError(f"the NATS connection to {self.url} is closed")

    # closing ----------------------------------------------------------------------------
    @override
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            groups, self._groups = list(self._groups.values()), {}
        for group in groups:
            for subscription in group.members:
                subscription.active = False
        self._close_client()
        self._inbox.put(None)
        if threading.current_thread() is not self._dispatcher:
            self._dispatcher.join(self.timeout)

    def _close_client(self) -> None:
        if self._loop.on_loop_thread:
            self._loop.run_coro(self._client.close())
            return
        with contextlib.suppress(Exception):
            self._loop.run(self._client.close(), self.timeout)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self.connected else "reconnecting")
        return f"NatsBus({self.url!r}, {state})"


class _SubjectGroup:
    """The server's subscription to ``subject`` and the bus's subscriptions sharing it."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.handle: NatsSubscriptionHandle | None = None
        # Replaced, never changed in place: the dispatch thread reads it without the lock.
        self.members: tuple[_NatsSubscription, ...] = ()
        #: Messages received so far (counted on the loop thread, in arrival order).
        self.received = 0


class _NatsSubscription(Subscription):
    def __init__(self, bus: NatsBus, subject: str, on_message: MessageHandler) -> None:
        self.bus = bus
        self.subject = subject
        self.on_message = on_message
        self.group: _SubjectGroup | None = None
        self.start = 0  # messages of the group up to this number came before it
        self.active = True

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        self.bus._unsubscribe(self)

    def __repr__(self) -> str:
        return f"NatsSubscription({self.subject!r} on {self.bus.url})"


# connections shared in the process ----------------------------------------------------------
_lock = threading.Lock()
_loop_thread: AsyncLoopThread | None = None
_shared: dict[str, list[Any]] = {}  # url -> [bus, holders]


def shared_loop() -> AsyncLoopThread:
    """The process's event loop thread for NATS connections (started on first use)."""
    global _loop_thread
    with _lock:
        if _loop_thread is None or not _loop_thread.thread.is_alive():
            _loop_thread = AsyncLoopThread("openfactory-nats-loop")
        return _loop_thread


class NatsConnector(BusConnector):
    """One ``NatsBus`` per server URL in the process, shared by every fan-out transport."""

    inline_delivery = False

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout

    @override
    def acquire(self, url: str) -> SubjectBus:
        check_nats_url(url)
        loop = shared_loop()
        with _lock:
            held = _shared.get(url)
            if held is None:
                # Connecting under the lock: a second asset on the same server waits for this
                # connection instead of opening its own.
                held = _shared[url] = [NatsBus(url, loop, self.timeout), 0]
            held[1] += 1
            bus: NatsBus = held[0]
            return bus

    @override
    def release(self, bus: SubjectBus) -> None:
        with _lock:
            held = _shared.get(bus.url)
            if held is None or held[0] is not bus:
                return
            held[1] -= 1
            if held[1] > 0:
                return
            del _shared[bus.url]
        bus.close()


def shared_connections() -> list[NatsBus]:
    """The NATS connections the process shares now (``received`` counts their messages)."""
    with _lock:
        return [held[0] for held in _shared.values()]


def reset_connections() -> None:
    """Close every shared NATS connection of the process (for a clean slate in tests)."""
    with _lock:
        buses = [held[0] for held in _shared.values()]
        _shared.clear()
    for bus in buses:
        bus.close()


__all__ = [
    "DEFAULT_TIMEOUT",
    "NatsBus",
    "NatsConnector",
    "check_nats_url",
    "reset_connections",
    "shared_connections",
    "shared_loop",
]
