"""The platform library's ``openfactory.config`` globals, read once, when this module is imported.

``KAFKA_BROKER``, ``KSQLDB_URL`` and ``ASSET_ROUTER_URL`` are the environment variables of the
same names (``None`` when unset or empty; the deployer sets all three for every app).
``KSQLDB_LOG_LEVEL`` is the literal ``"WARNING"``, as upstream: the deployer's ``KSQLDB_LOG_LEVEL``
variable is for the app's own code to read. The SDK itself reads the environment when an app or
asset is built, not these globals, so a test that sets a variable after import still counts.
"""

from __future__ import annotations

import os
from typing import Final


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


KAFKA_BROKER: str | None = _env("KAFKA_BROKER")
KSQLDB_URL: str | None = _env("KSQLDB_URL")
ASSET_ROUTER_URL: str | None = _env("ASSET_ROUTER_URL")
KSQLDB_LOG_LEVEL: Final = "WARNING"

__all__ = ["ASSET_ROUTER_URL", "KAFKA_BROKER", "KSQLDB_LOG_LEVEL", "KSQLDB_URL"]
