"""The embedded in-memory broker: the process-wide one used by ``test_mode=True`` apps,
``ofa-dev run`` and ``--ofa-fake-broker``. ``reset_embedded()`` gives a fresh one."""

from __future__ import annotations

import threading

from openfactory.testing.broker import FakeBroker
from openfactory.testing.ksqldb import FakeKSQLDB
from openfactory.testing.transport import InMemoryTransport

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


def reset_embedded() -> None:
    """Forget the process-wide broker; the next use starts an empty one."""
    global _ksqldb
    with _lock:
        _ksqldb = None
