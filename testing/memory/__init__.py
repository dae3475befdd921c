"""The in-memory backend: a fake Kafka broker, a fake ksqlDB materializing OpenFactory's state
tables from it, and the transport on them. ``test_mode=True`` apps run here.

It depends only on the transport interface and the wire contract, never on the harness.
"""

from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.embedded import (
    embedded_broker,
    embedded_ksqldb,
    embedded_transport,
    in_memory_transport,
    reset_embedded,
)
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.testing.memory.transport import InMemoryTransport

__all__ = [
    "FakeBroker",
    "FakeKSQLDB",
    "InMemoryTransport",
    "embedded_broker",
    "embedded_ksqldb",
    "embedded_transport",
    "in_memory_transport",
    "reset_embedded",
]
