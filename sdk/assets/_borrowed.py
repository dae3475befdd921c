"""``BorrowedTransport``: an asset view's handle on another asset's transport.

Views built by an asset (``references_above()`` and the like) run on the transport of the asset
that built them, whatever chose it (an explicit ``transport=``, ``--ofa-fake-broker``, test
mode, Kafka), and closing a view must not close what it borrowed.
"""

from __future__ import annotations

import threading
from typing import Any

from typing_extensions import override

from openfactory.transport import (
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    RecordCallback,
    Subscription,
    Transport,
    check_publish,
    check_subscribe,
)


class BorrowedTransport(Transport):
    """Publishes, subscribes and queries through ``owner``; ``close()`` stops only the
    subscriptions made through this handle and leaves ``owner`` open. Delivery failures are
    counted by ``owner`` (``failures`` and ``flush()`` report them)."""

    _owner: Transport

    def __init__(self, owner: Transport) -> None:
        super().__init__()
        while isinstance(owner, BorrowedTransport):
            owner = owner._owner  # a view of a view borrows from the owner itself
        self._owner = owner
        self.inline_delivery = owner.inline_delivery
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def owner(self) -> Transport:
        """The transport this handle borrows."""
        return self._owner

    @property
    def failures(self) -> list[DeliveryReport]:
        """The owner's last failed deliveries."""
        return self._owner.failures

    @override
    def topic_for(self, name: str) -> str:
        return self._owner.topic_for(name)

    @override
    def _resolve_topic(self, name: str) -> str:
        return self._owner.topic_for(name)

    @override
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        value = check_publish(topic, key, value, on_delivery, self._closed)
        self._owner.publish(topic, key, value, on_delivery)

    @override
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        check_subscribe(topic, key, callback, self._closed)
        subscription = self._owner.subscribe(topic, key, callback)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    @override
    def query(self, sql: str) -> list[dict[str, Any]]:
        return self._owner.query(sql)

    @override
    def flush(self, timeout: float = 10.0) -> FlushResult:
        return self._owner.flush(timeout)

    @override
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.stop()

    def __repr__(self) -> str:
        return f"BorrowedTransport({self._owner!r})"
