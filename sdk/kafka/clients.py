"""For code that drives its own confluent_kafka clients beside the SDK's (the loopback rigs in
``openfactory.testing.loopback``, benchmarks): the SDK's client settings, topic metadata, and a
consumed ``Message`` as an openfactory ``Record``.

The settings are what ``KafkaTransport`` itself uses, so such a client behaves like the SDK's
(partitioner, logging, producer-only properties left out of consumers).
"""

from openfactory.kafka._clients import (
    admin_config,
    consumer_config,
    producer_config,
    to_record,
    topic_partitions,
)

__all__ = [
    "admin_config",
    "consumer_config",
    "producer_config",
    "to_record",
    "topic_partitions",
]
