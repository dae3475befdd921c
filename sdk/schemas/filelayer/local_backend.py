"""``LocalBackendConfig`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import LocalBackendConfig

__all__ = ["LocalBackendConfig"]
