"""OpenFactory App SDK: write OpenFactory apps and test them on an in-memory broker.

Importing ``openfactory`` has no side effects. Unlike the platform library, it neither loads
``./.ofaenv`` into the environment nor writes ``OPENFACTORY_VERSION`` (both serve its deployment
tools, which this SDK does not include; a deployed app gets its variables from the deployer),
and it imports no administration classes (``OpenFactory``, ``OpenFactoryManager``, ...).
"""

from openfactory._version import (
    OPENFACTORY_LICENSE,
    OPENFACTORY_MANUFACTURER,
    __version__,
)
from openfactory.errors import (
    CommandError,
    ConfigurationError,
    DeliveryError,
    KSQLDBError,
    OpenFactoryError,
    TransportError,
)

__all__ = [
    "OPENFACTORY_LICENSE",
    "OPENFACTORY_MANUFACTURER",
    "CommandError",
    "ConfigurationError",
    "DeliveryError",
    "KSQLDBError",
    "OpenFactoryError",
    "TransportError",
    "__version__",
]
