"""Storage backends an app reaches through ``app.storage`` (from the ``STORAGE`` variable)."""

from openfactory.storage.backends import LocalBackend, NFSBackend
from openfactory.storage.base import FileBackend, StoragePathError
from openfactory.storage.config import LocalStorageConfig, NFSStorageConfig, StorageConfig
from openfactory.storage.factory import storage_from_config, storage_from_env

__all__ = [
    "FileBackend",
    "LocalBackend",
    "LocalStorageConfig",
    "NFSBackend",
    "NFSStorageConfig",
    "StorageConfig",
    "StoragePathError",
    "storage_from_config",
    "storage_from_env",
]
