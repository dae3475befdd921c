"""Storage backends an app reaches through ``app.storage`` (from the ``STORAGE`` variable)."""

from openfactory.storage.backends import LocalBackend, NFSBackend
from openfactory.storage.base import FileBackend, StoragePathError
from openfactory.storage.config import (
    BaseBackendConfig,
    LocalBackendConfig,
    LocalStorageConfig,
    NFSBackendConfig,
    NFSStorageConfig,
    StorageBackend,
    StorageBackendSchema,
    StorageConfig,
)
from openfactory.storage.factory import (
    Storage,
    storage_from_config,
    storage_from_data,
    storage_from_env,
)

__all__ = [
    "BaseBackendConfig",
    "FileBackend",
    "LocalBackend",
    "LocalBackendConfig",
    "LocalStorageConfig",
    "NFSBackend",
    "NFSBackendConfig",
    "NFSStorageConfig",
    "Storage",
    "StorageBackend",
    "StorageBackendSchema",
    "StorageConfig",
    "StoragePathError",
    "storage_from_config",
    "storage_from_data",
    "storage_from_env",
]
