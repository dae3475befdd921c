"""``FileBackend`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import FileBackend

__all__ = ["FileBackend"]
