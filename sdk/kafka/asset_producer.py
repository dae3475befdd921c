"""``AssetProducer`` at the platform library's path (``openfactory.kafka.asset_producer``).

The class is ``openfactory.utils.asset_producer.AssetProducer``: it publishes through the
backends switch, which sits above this backend, so it is looked up by name at first use rather
than imported here (the layers of pyproject.toml's import contracts).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AssetProducer"]  # noqa: F822  (provided by __getattr__ below)


def __getattr__(name: str) -> Any:
    if name == "AssetProducer":
        return importlib.import_module("openfactory.utils.asset_producer").AssetProducer
    raise AttributeError(f"module 'openfactory.kafka.asset_producer' has no attribute {name!r}")
