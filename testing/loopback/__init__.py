"""Real-protocol rigs on loopback: librdkafka's mock Kafka cluster (``LoopbackKafka``), the fake
ksqlDB served over HTTP (``FakeKSQLDBServer``) and a mirror of a real Kafka topic into the
in-memory world (``KafkaMirror``). ``python -m openfactory.testing.loopback`` runs a cluster."""

from openfactory.testing.loopback.kafka import MOCK_DEFAULT_PARTITIONS, LoopbackKafka, main
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror

__all__ = [
    "MOCK_DEFAULT_PARTITIONS",
    "FakeKSQLDBServer",
    "KafkaMirror",
    "LoopbackKafka",
    "main",
]
