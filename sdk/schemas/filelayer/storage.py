"""``StorageBackendSchema`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import StorageBackendSchema

__all__ = ["StorageBackendSchema"]
