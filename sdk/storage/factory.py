"""Build the storage backend from ``STORAGE``, with errors that name the field at fault."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from openfactory.storage.backends import LocalBackend, NFSBackend
from openfactory.storage.base import FileBackend
from openfactory.storage.config import (
    LocalStorageConfig,
    NFSStorageConfig,
    parse_storage_config,
    parse_storage_json,
)

STORAGE_ENV = "STORAGE"


def storage_from_config(
    config: Mapping[str, Any] | LocalStorageConfig | NFSStorageConfig,
) -> FileBackend:
    """The backend described by ``config`` (chosen by its ``type``).

    Raises ``ConfigurationError`` naming the bad field (message prefixed ``storage config:``).
    """
    parsed = config
    if not isinstance(parsed, LocalStorageConfig | NFSStorageConfig):
        parsed = parse_storage_config(config)
    return _backend(parsed)


def storage_from_env(environ: Mapping[str, str] | None = None) -> FileBackend | None:
    """The backend of ``STORAGE`` in ``environ`` (default ``os.environ``); ``None`` if unset/empty.

    Raises ``ConfigurationError`` naming the bad field (message prefixed ``STORAGE:``).
    """
    text = (os.environ if environ is None else environ).get(STORAGE_ENV, "").strip()
    if not text:
        return None
    return _backend(parse_storage_json(text, STORAGE_ENV))


def _backend(config: LocalStorageConfig | NFSStorageConfig) -> FileBackend:
    if isinstance(config, LocalStorageConfig):
        return LocalBackend(config)
    return NFSBackend(config)
