"""``NFSBackend`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import NFSBackend

__all__ = ["NFSBackend"]
