"""OpenFactory's production backends: Kafka (confluent-kafka) and ksqlDB (httpx).

``openfactory.kafka.clients`` gives code that runs its own confluent_kafka clients (the
loopback rigs) the SDK's client settings and ``Message``-to-``Record`` conversion.

``AssetProducer`` and ``CaseInsensitiveDict`` are here too because the platform library put them
here; they live in ``openfactory.utils``, above this backend, and are looked up by name.
"""

from __future__ import annotations

import importlib
from typing import Any

from openfactory.kafka.ksqldb import KSQLDBClient
from openfactory.kafka.transport import KafkaTransport, reset_kafka_clients

__all__ = [
    "AssetProducer",
    "CaseInsensitiveDict",
    "KSQLDBClient",
    "KafkaTransport",
    "reset_kafka_clients",
]

# Looked up by name at first use: a backend must not import the layers above it.
_FROM_UTILS = {
    "AssetProducer": "openfactory.utils.asset_producer",
    "CaseInsensitiveDict": "openfactory.utils.case_insensitive_dict",
}


def __getattr__(name: str) -> Any:
    module = _FROM_UTILS.get(name)
    if module is None:
        raise AttributeError(f"module 'openfactory.kafka' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
