"""OpenFactory's production backends: Kafka (confluent-kafka) and ksqlDB (httpx).

``openfactory.kafka.clients`` gives code that runs its own confluent_kafka clients (the
loopback rigs) the SDK's client settings and ``Message``-to-``Record`` conversion.
"""

from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients

__all__ = ["KSQLDBClient", "KafkaTransport", "reset_kafka_clients"]
