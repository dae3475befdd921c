"""``LocalBackend`` at the platform library's path (defined in ``openfactory.storage``)."""

from openfactory.storage import LocalBackend

__all__ = ["LocalBackend"]
