"""``Transport``: the seam between the SDK and a broker, the only thing app and asset code know.

Two implementations honour it: ``openfactory.kafka.KafkaTransport`` (Kafka + ksqlDB) and
``openfactory.testing.InMemoryTransport``; ``tests/contract`` runs one suite on both. What a
transport carries is in ``openfactory.transport.records``, the argument checks every
implementation shares in ``openfactory.transport.checks``.
"""

from __future__ import annotations

import importlib
import logging
import threading
import warnings
from abc import ABC, abstractmethod
from collections import deque
from types import TracebackType
from typing import Any, ClassVar

from openfactory.transport.records import (
    DeliveryCallback,
    DeliveryReport,
    FlushResult,
    RecordCallback,
    Subscription,
)

logger = logging.getLogger("openfactory.transport")


class Transport(ABC):
    """Publish/subscribe on Kafka topics, and pull queries on ksqlDB.

    The contract every implementation keeps:

    - ``publish`` queues a record and never blocks on the network. Records published with
      the same key are delivered in order. Bad arguments, or a closed transport, raise
      ``TransportError`` at once (``openfactory.transport.checks``).
    - A failed delivery is never silent: it is logged, passed to the publish's
      ``on_delivery``, counted in ``failure_count`` and kept in ``failures`` (the last
      ``failures_kept`` of them, so a long-lived transport's memory stays flat).
    - ``subscribe`` delivers every record of the key (all keys for ``None``) published
      after it returns, and none published before. ``inline_delivery`` says on which
      thread the callbacks run.
    - ``topic_for`` names the Kafka topic of a ksqlDB stream or table, asked once per name.
    - ``flush`` waits for queued records; ``close`` flushes, stops this transport's
      subscriptions and releases what it holds; both are safe to call again. A transport is
      a context manager that closes on exit.
    """

    #: Where subscribers' callbacks run. True: inside ``publish``, on the publisher's thread, so
    #: every record is delivered before ``publish`` returns (the in-memory backend, for
    #: deterministic tests). False: on the transport's reader thread, shared by every
    #: subscription of a topic in the process (Kafka), so a callback must not block there: work
    #: that may take long (an app's methods) goes to a thread of its own.
    inline_delivery: bool = False
    #: How many failed delivery reports ``failures`` keeps (the oldest are dropped first).
    failures_kept: ClassVar[int] = 100
    #: How long ``close`` waits, in all, for queued records to be delivered (an app's shutdown
    #: lowers it on its transport to what is left of its budget).
    close_timeout: float = 10.0

    def __init__(self) -> None:
        #: Failed deliveries since the transport was made (all of them, unlike ``failures``).
        self.failure_count = 0
        self._failures: deque[DeliveryReport] = deque(maxlen=self.failures_kept)
        self._failures_lock = threading.Lock()
        self._topics: dict[str, str] = {}

    @property
    def failures(self) -> list[DeliveryReport]:
        """The last ``failures_kept`` failed deliveries, oldest first."""
        with self._failures_lock:
            return list(self._failures)

    def topic_for(self, name: str) -> str:
        """Kafka topic behind ksqlDB stream or table ``name`` (cached, case-insensitive).

        Raises ``KSQLDBError`` if ksqlDB does not know ``name``.
        """
        key = name.upper()
        if key not in self._topics:
            self._topics[key] = self._resolve_topic(name)
        return self._topics[key]

    @abstractmethod
    def _resolve_topic(self, name: str) -> str:
        """Ask ksqlDB for the topic of ``name`` (``topic_for`` caches the answer)."""

    @abstractmethod
    def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queue one record (``value=None`` publishes a tombstone); raises ``TransportError``."""

    @abstractmethod
    def subscribe(self, topic: str, key: str | None, callback: RecordCallback) -> Subscription:
        """Deliver every record of ``key`` (all keys if ``None``) published from now on.

        Raises ``TransportError``.
        """

    @abstractmethod
    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a ksqlDB pull query and return its rows; raises ``KSQLDBError``."""

    @abstractmethod
    def flush(self, timeout: float = 10.0) -> FlushResult:
        """Block until every queued record is delivered or ``timeout`` seconds have passed."""

    @abstractmethod
    def close(self) -> None:
        """Flush, stop this transport's subscriptions and release its resources (idempotent)."""

    def _flush_result(self, undelivered: int) -> FlushResult:
        """A ``FlushResult`` with ``undelivered`` records and this transport's failures."""
        with self._failures_lock:
            return FlushResult(undelivered, list(self._failures), self.failure_count)

    def _report(self, report: DeliveryReport, on_delivery: DeliveryCallback | None) -> None:
        """Keep and log a failed delivery, then pass the outcome to the publish's callback."""
        if not report.ok:
            with self._failures_lock:
                self.failure_count += 1
                self._failures.append(report)
            logger.error("%s", report.as_error())
        if on_delivery is not None:
            on_delivery(report)

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# Moved out of this module; still importable from here (with a warning) as before.
_MOVED = {"Record": "records", "new_record": "records", "attribute_id_of": "wire"}


def __getattr__(name: str) -> Any:
    home = _MOVED.get(name)
    if home is None:
        raise AttributeError(f"module 'openfactory.transport.base' has no attribute {name!r}")
    warnings.warn(
        f"openfactory.transport.base.{name} moved to openfactory.transport.{home}.{name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(f"openfactory.transport.{home}"), name)
