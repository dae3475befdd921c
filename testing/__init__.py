"""The OpenFactory test harness: in-memory broker and ksqlDB fakes, recorder, simulators."""

from openfactory.testing.broker import FakeBroker
from openfactory.testing.clock import VirtualClock
from openfactory.testing.embedded import embedded_broker, embedded_ksqldb, reset_embedded
from openfactory.testing.harness import AppHarness, RunResult
from openfactory.testing.ksqldb import FakeKSQLDB
from openfactory.testing.recorder import PublishedAttribute, Recorder, RecorderAssertionError
from openfactory.testing.signals import Delivery, SignalSimulator
from openfactory.testing.transport import InMemoryTransport

__all__ = [
    "AppHarness",
    "Delivery",
    "FakeBroker",
    "FakeKSQLDB",
    "InMemoryTransport",
    "PublishedAttribute",
    "Recorder",
    "RecorderAssertionError",
    "RunResult",
    "SignalSimulator",
    "VirtualClock",
    "embedded_broker",
    "embedded_ksqldb",
    "reset_embedded",
]
