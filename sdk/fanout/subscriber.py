"""``NATSSubscriber``: the platform library's helper of that name, on this SDK's NATS client.

``NATSSubscriber(loop_thread, servers, subject, on_message)``: ``start()`` connects and
subscribes, returning once the server has the subscription; ``on_message(subject, value)``
then gets each message's JSON object; ``stop()`` ends it. Unlike the platform's, a failure to
connect raises (``TransportError`` after a bounded wait) instead of being printed (reference
section 11, item 21). Loads nats-py (the ``fanout`` extra) when started.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from openfactory.errors import ConfigurationError
from openfactory.fanout.bus import DEFAULT_TIMEOUT
from openfactory.fanout.loop import AsyncLoopThread
from openfactory.transport import Subscription

logger = logging.getLogger("openfactory.fanout")

AssetNATSCallback = Callable[[str, dict[str, Any]], None]
"""``on_message(msg_subject, msg_value)``: the platform's subscription callback."""


class NATSSubscriber:
    """Subscribes ``on_message`` to ``subject`` on the NATS server ``servers`` (a URL, or a list
    whose first URL is used), with coroutines on ``loop_thread``."""

    def __init__(
        self,
        loop_thread: AsyncLoopThread,
        servers: str | list[str],
        subject: str,
        on_message: AssetNATSCallback,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Raises ``ConfigurationError`` for no server or a callback that is not callable."""
        url = servers[0] if isinstance(servers, list) and servers else servers
        if not isinstance(url, str) or not url:
            raise ConfigurationError(
                f"servers must be a NATS URL or a list of them, got {servers!r}"
            )
        if not callable(on_message):
            raise ConfigurationError(f"on_message must be callable, got {on_message!r}")
        self.loop_thread = loop_thread
        self.url = url
        self.subject = subject
        self.on_message = on_message
        self.timeout = timeout
        self._bus: Any = None
        self._subscription: Subscription | None = None

    def start(self) -> None:
        """Connect and subscribe; returns once subscribed (no-op if started).

        Raises ``ConfigurationError`` for a URL that is no NATS server's and ``TransportError``
        when the server does not answer within ``timeout`` seconds.
        """
        if self._bus is not None:
            return
        from openfactory.fanout.nats_client import NatsBus

        bus = NatsBus(self.url, self.loop_thread, self.timeout, name="openfactory-subscriber")
        try:
            self._subscription = bus.subscribe(self.subject, self._deliver)
        except BaseException:
            bus.close()
            raise
        self._bus = bus

    def _deliver(self, subject: str, data: bytes) -> None:
        try:
            value = json.loads(data)
        except ValueError:
            logger.warning("ignoring a message on %r that is not JSON: %r", subject, data[:120])
            return
        self.on_message(subject, value)

    def stop(self) -> None:
        """Unsubscribe and disconnect (idempotent)."""
        bus, self._bus = self._bus, None
        if self._subscription is not None:
            self._subscription.stop()
            self._subscription = None
        if bus is not None:
            bus.close()
