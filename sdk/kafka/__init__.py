"""OpenFactory's production backends: Kafka (confluent-kafka) and ksqlDB (httpx).

``openfactory.kafka.clients`` gives code that runs its own confluent_kafka clients (the
loopback rigs) the SDK's client settings and ``Message``-to-``Record`` conversion.
Also the platform library's names at this path: ``AssetProducer`` and ``CaseInsensitiveDict``.
"""

from openfactory.kafka.asset_producer import AssetProducer
from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients
from openfactory.utils.case_insensitive_dict import CaseInsensitiveDict

__all__ = [
    "AssetProducer",
    "CaseInsensitiveDict",
    "KSQLDBClient",
    "KafkaTransport",
    "reset_kafka_clients",
]
