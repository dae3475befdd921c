"""``DelegatingTransport``: a transport that works through another one (``inner``).

Publishing, queries, flushes, topic names and delivery failures are the inner transport's; the
subscriptions made through the wrapper are its own, and ``close()`` stops only those (a wrapper
that owns ``inner`` closes it too, by overriding ``close``). The asset views' borrowed handle and
the fan-out transport are both built on it.
"""

from __future__ import annotations

import threading
from typing import Any

from typing_extensions import override

from openfactory.transport.base import Transport
from openfactory.transport.checks import check_publish, check_subscribe
from openfactory.transport.records import (
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    RecordCallback,
    Subscription,
)


class DelegatingTransport(Transport):
    """Everything through ``inner``; subscriptions made here are tracked and stopped by
    ``close()``. Raises ``TransportError`` for a call after ``close()``."""

    def __init__(self, inner: Transport) -> None:
        super().__init__()
        self.inner = inner
        self.inline_delivery = inner.inline_delivery
        self._subscriptions: list[Subscription] = []
        self._lock = threading.RLock()
        self._closed = False

    @property
    def failures(self) -> list[DeliveryReport]:
        """The inner transport's last failed deliveries (it does the publishing)."""
        return self.inner.failures

    @property  # type: ignore[override]
    def failure_count(self) -> int:
        """The inner transport's count of failed deliveries."""
        return self.inner.failure_count

    @failure_count.setter
    def failure_count(self, value: int) -> None:
        # Transport.__init__ sets it; the inner transport keeps the count.
        pass

    @override
    def topic_for(self, name: str) -> str:
        return self.inner.topic_for(name)

    @override
    def _resolve_topic(self, name: str) -> str:
        return self.inner.topic_for(name)

    @override
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        value = check_publish(topic, key, value, on_delivery, self._closed)
        self.inner.publish(topic, key, value, on_delivery)

    @override
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        check_subscribe(topic, key, callback, self._closed)
        return self._track(self.inner.subscribe(topic, key, callback))

    @override
    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.inner.query(sql)

    @override
    def flush(self, timeout: float = 10.0) -> FlushResult:
        return self.inner.flush(timeout)

    @override
    def close(self) -> None:
        """Stop the subscriptions made through this wrapper (idempotent); ``inner`` stays open."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.stop()

    def _track(self, subscription: Subscription) -> Subscription:
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
