"""The OpenFactory test harness: in-memory broker and ksqlDB fakes, recorder, simulators."""

from openfactory.testing.broker import FakeBroker
from openfactory.testing.embedded import embedded_broker, embedded_ksqldb, reset_embedded
from openfactory.testing.ksqldb import FakeKSQLDB
from openfactory.testing.transport import InMemoryTransport

__all__ = [
    "FakeBroker",
    "FakeKSQLDB",
    "InMemoryTransport",
    "embedded_broker",
    "embedded_ksqldb",
    "reset_embedded",
]
