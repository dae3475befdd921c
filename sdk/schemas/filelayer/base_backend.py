"""``BaseBackendConfig`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import BaseBackendConfig

__all__ = ["BaseBackendConfig"]
