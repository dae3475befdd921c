"""Build storage backends from ``STORAGE``, with errors that name the field at fault.

``STORAGE`` holds one backend (``{"type": "local", ...}``, the platform's 0.5.3 form) or named
backends (``{"data": {"type": "local", ...}, "models": {...}}``, since 0.6.6).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from openfactory.errors import ConfigurationError
from openfactory.storage.backends import LocalBackend, NFSBackend
from openfactory.storage.base import FileBackend
from openfactory.storage.config import (
    LocalBackendConfig,
    NFSBackendConfig,
    decode_storage_json,
    parse_storage_config,
)

STORAGE_ENV = "STORAGE"

Storage = FileBackend | dict[str, FileBackend]
"""What ``app.storage`` holds when ``STORAGE`` is set: one backend, or backends by name."""


def storage_from_config(
    config: Mapping[str, Any] | LocalBackendConfig | NFSBackendConfig,
) -> FileBackend:
    """The backend described by ``config`` (chosen by its ``type``).

    Raises ``ConfigurationError`` naming the bad field (message prefixed ``storage config:``).
    """
    parsed = config
    if not isinstance(parsed, LocalBackendConfig | NFSBackendConfig):
        parsed = parse_storage_config(config)
    return _backend(parsed)


def storage_from_data(data: Any, source: str = STORAGE_ENV) -> Storage:
    """One backend, or a dict of named backends, from a decoded ``STORAGE`` value.

    A top-level ``type`` that is not an object means one backend; otherwise every value is
    a named backend. Raises ``ConfigurationError`` prefixed with ``source`` and, for a named
    backend, its name.
    """
    if not isinstance(data, Mapping) or _is_single(data):
        try:
            return _backend(parse_storage_config(data, source))
        except ConfigurationError as exc:
            if isinstance(data, Mapping) and "type" not in data:
                raise ConfigurationError(
                    f"{exc}; for named backends, map each name to an object: "
                    f'{{"data": {{"type": "local", ...}}}}'
                ) from None
            raise
    configs: dict[str, LocalBackendConfig | NFSBackendConfig] = {}
    for name, config in data.items():
        where = f"{source}: backend {name!r}"
        if not isinstance(config, Mapping):
            raise ConfigurationError(
                f"{where} must be a JSON object such as "
                f'{{"type": "local", "local_path": "/data", "mount_point": "/data"}}, '
                f"got {type(config).__name__}"
            )
        configs[name] = parse_storage_config(config, where)
    # Every config is valid before any mount point is created.
    return {name: _backend(config) for name, config in configs.items()}


def storage_from_env(environ: Mapping[str, str] | None = None) -> Storage | None:
    """The storage of ``STORAGE`` in ``environ`` (default ``os.environ``): one backend, a dict
    of named backends, or ``None`` when unset or empty.

    Raises ``ConfigurationError`` naming ``STORAGE``, the backend and the bad field.
    """
    text = (os.environ if environ is None else environ).get(STORAGE_ENV, "").strip()
    if not text:
        return None
    return storage_from_data(decode_storage_json(text, STORAGE_ENV), STORAGE_ENV)


def _is_single(data: Mapping[Any, Any]) -> bool:
    if "type" in data:
        return not isinstance(data["type"], Mapping)
    # No backend is an object: a single config missing its 'type' (reported as such).
    return bool(data) and not any(isinstance(value, Mapping) for value in data.values())


def _backend(config: LocalBackendConfig | NFSBackendConfig) -> FileBackend:
    if isinstance(config, LocalBackendConfig):
        return LocalBackend(config)
    return NFSBackend(config)
