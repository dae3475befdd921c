"""The in-memory backend: a fake Kafka broker, a fake ksqlDB materializing OpenFactory's state
tables from it, and the transport on them. ``test_mode=True`` apps run here. ``fanout_of(broker)``
is the broker's fan-out layer (forwarder, asset router, NATS servers), used by apps given an
asset router (``MEMORY_ROUTER_URL`` names it in tests).

It depends only on the transport interface and the wire contract, never on the harness.
``CATALOG_TOPICS`` maps each stream and table of the fake ksqlDB to the Kafka topic behind it.
"""

from openfactory.testing.memory._catalog import TOPICS as CATALOG_TOPICS
from openfactory.testing.memory.broker import FakeBroker
from openfactory.testing.memory.embedded import (
    embedded_broker,
    embedded_ksqldb,
    embedded_transport,
    in_memory_transport,
    reset_embedded,
)
from openfactory.testing.memory.fanout import (
    MEMORY_NATS_URL,
    MEMORY_ROUTER_URL,
    InMemoryFanOut,
    InMemoryNatsServer,
    fanout_of,
)
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.testing.memory.transport import InMemoryTransport

__all__ = [
    "CATALOG_TOPICS",
    "MEMORY_NATS_URL",
    "MEMORY_ROUTER_URL",
    "FakeBroker",
    "FakeKSQLDB",
    "InMemoryFanOut",
    "InMemoryNatsServer",
    "InMemoryTransport",
    "embedded_broker",
    "embedded_ksqldb",
    "embedded_transport",
    "fanout_of",
    "in_memory_transport",
    "reset_embedded",
]
