"""OpenFactory App SDK: write OpenFactory apps and test them on an in-memory broker."""

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
