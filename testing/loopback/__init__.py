"""Real-protocol rigs on loopback: librdkafka's mock Kafka cluster (``LoopbackKafka``), Tansu, a
Kafka-compatible broker run as a process of its own (``TansuBroker``: pause, kill, restart), the
fake ksqlDB served over HTTP (``FakeKSQLDBServer``) and a mirror of a real Kafka topic into the
in-memory world (``KafkaMirror``). ``python -m openfactory.testing.loopback`` runs a cluster,
``python -m openfactory.testing.loopback.tansu`` a Tansu broker.

The fan-out layer (``fanout`` extra): a real ``nats-server`` (``LoopbackNats``), the asset router
(``LoopbackAssetRouter``), the Kafka-to-NATS forwarder (``AssetForwarder``) and the three
together (``LoopbackFanOut``)."""

from openfactory.testing.loopback.asset_router import LoopbackAssetRouter
from openfactory.testing.loopback.fanout import LoopbackFanOut
from openfactory.testing.loopback.forwarder import AssetForwarder
from openfactory.testing.loopback.kafka import MOCK_DEFAULT_PARTITIONS, LoopbackKafka, main
from openfactory.testing.loopback.ksqldb_server import FakeKSQLDBServer
from openfactory.testing.loopback.mirror import KafkaMirror
from openfactory.testing.loopback.nats_server import LoopbackNats
from openfactory.testing.loopback.tansu import TansuBroker

__all__ = [
    "MOCK_DEFAULT_PARTITIONS",
    "AssetForwarder",
    "FakeKSQLDBServer",
    "KafkaMirror",
    "LoopbackAssetRouter",
    "LoopbackFanOut",
    "LoopbackKafka",
    "LoopbackNats",
    "TansuBroker",
    "main",
]
