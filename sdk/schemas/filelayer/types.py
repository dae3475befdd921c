"""``StorageBackend`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import StorageBackend

__all__ = ["StorageBackend"]
