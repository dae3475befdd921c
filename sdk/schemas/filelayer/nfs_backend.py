"""``NFSBackendConfig`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import NFSBackendConfig

__all__ = ["NFSBackendConfig"]
