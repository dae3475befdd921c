"""The in-memory implementation of the transport interface (fake broker + fake ksqlDB)."""

from __future__ import annotations

import threading
from typing import Any

from typing_extensions import override

from openfactory.testing.memory.broker import FakeBroker
from openfactory.transport import (
    KSQLDB,
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    RecordCallback,
    Subscription,
    Transport,
    check_publish,
    check_subscribe,
)


class InMemoryTransport(Transport):
    """A transport on a ``FakeBroker``, with a ksqlDB (usually the ``FakeKSQLDB`` materializing
    from that broker) answering the queries and naming the topics."""

    inline_delivery = True

    def __init__(self, broker: FakeBroker, ksqldb: KSQLDB) -> None:
        super().__init__()
        self.broker = broker
        self.ksqldb = ksqldb
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        self._closed = False

    @override
    def _resolve_topic(self, name: str) -> str:
        return self.ksqldb.get_kafka_topic(name)

    @override
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        value = check_publish(topic, key, value, on_delivery, self._closed)
        if on_delivery is None:
            # Failures are kept and logged; a record delivered needs no report built.
            self.broker.produce(topic, key, value, on_failure=self._on_failure)
            return

        def acknowledge(report: DeliveryReport) -> None:
            self._report(report, on_delivery)

        self.broker.produce(topic, key, value, acknowledge)

    def _on_failure(self, report: DeliveryReport) -> None:
        self._report(report, None)

    @override
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        check_subscribe(topic, key, callback, self._closed)
        subscription = self.broker.subscribe(topic, key, callback)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    @override
    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.ksqldb.query(sql)

    @override
    def flush(self, timeout: float = 10.0) -> FlushResult:
        return self._flush_result(self.broker.flush(timeout))

    @override
    def close(self) -> None:
        if self._closed:
            return
        self.flush(self.close_timeout)
        self._closed = True
        with self._lock:
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.stop()
