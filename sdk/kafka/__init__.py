"""OpenFactory's Kafka and ksqlDB production backends."""

from openfactory.kafka.ksqldb import KSQLDBClient

__all__ = ["KSQLDBClient"]
