"""Real-protocol rigs on loopback: librdkafka's mock Kafka cluster (``LoopbackKafka``), Tansu, a
Kafka-compatible broker run as a process of its own (``TansuBroker``: pause, kill, restart), the
fake ksqlDB served over HTTP (``FakeKSQLDBServer``) and a mirror of a real Kafka topic into the
in-memory world (``KafkaMirror``). ``python -m openfactory.testing.loopback`` runs a cluster,
``python -m openfactory.testing.loopback.tansu`` a Tansu broker."""

from openfactory.testing.loopback.kafka import MOCK_DEFAULT_PARTITIONS, LoopbackKafka, main
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror
from openfactory.testing.loopback.tansu import TansuBroker

__all__ = [
    "MOCK_DEFAULT_PARTITIONS",
    "FakeKSQLDBServer",
    "KafkaMirror",
    "LoopbackKafka",
    "TansuBroker",
    "main",
]
