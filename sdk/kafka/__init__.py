"""OpenFactory's production backends: Kafka (confluent-kafka) and ksqlDB (httpx)."""

from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients

__all__ = ["KSQLDBClient", "KafkaTransport", "reset_kafka_clients"]
