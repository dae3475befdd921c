"""The embedded in-memory world: the process-wide fake broker and ksqlDB that ``test_mode=True``
apps, ``ofa-dev run`` and ``--ofa-fake-broker`` run on. ``reset_embedded()`` gives a fresh one
(``openfactory.backends.reset()`` calls it)."""

from __future__ import annotations

import threading

from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.testing.memory.transport import InMemoryTransport
from openfactory.transport import KSQLDB

_lock = threading.Lock()
_ksqldb: FakeKSQLDB | None = None


def embedded_ksqldb() -> FakeKSQLDB:
    """The process-wide fake ksqlDB (and, through ``.broker``, its fake broker)."""
    global _ksqldb
    with _lock:
        if _ksqldb is None:
            _ksqldb = FakeKSQLDB(FakeBroker())
        return _ksqldb


def embedded_broker() -> FakeBroker:
    """The process-wide fake broker."""
    return embedded_ksqldb().broker


def embedded_transport() -> InMemoryTransport:
    """A new transport handle on the process-wide in-memory broker."""
    return embedded_ksqldb().open_transport()


def in_memory_transport(ksql_client: KSQLDB | None) -> InMemoryTransport:
    """A transport on the fake ``ksql_client``'s own broker, or on the embedded world when
    ``ksql_client`` is anything else (a real ``KSQLDBClient`` in a ``test_mode`` app)."""
    if isinstance(ksql_client, FakeKSQLDB):
        return ksql_client.open_transport()
    return embedded_transport()


def reset_embedded() -> None:
    """Forget the process-wide world; the next use starts an empty one."""
    global _ksqldb
    with _lock:
        _ksqldb = None
