"""Build the storage backend from ``STORAGE``, with errors that name the field at fault."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from openfactory.errors import ConfigurationError
from openfactory.storage.backends import LocalBackend, NFSBackend
from openfactory.storage.base import FileBackend
from openfactory.storage.config import LocalStorageConfig, StorageConfig

_CONFIG: TypeAdapter[Any] = TypeAdapter(StorageConfig)


def storage_from_config(config: Mapping[str, Any]) -> FileBackend:
    """The backend described by ``config``; raises ``ConfigurationError`` naming the bad field."""
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"STORAGE must be a JSON object, got {config!r}")
    kind = config.get("type")
    if kind not in ("local", "nfs"):
        raise ConfigurationError(f"STORAGE: field 'type' must be 'local' or 'nfs', got {kind!r}")
    try:
        parsed = _CONFIG.validate_python(dict(config))
    except ValidationError as err:
        raise ConfigurationError(_describe(err, kind)) from None
    if isinstance(parsed, LocalStorageConfig):
        return LocalBackend(parsed)
    return NFSBackend(parsed)


def storage_from_env(environ: Mapping[str, str] | None = None) -> FileBackend | None:
    """The backend of ``STORAGE`` (``None`` when unset or empty); raises ``ConfigurationError``."""
    text = (os.environ if environ is None else environ).get("STORAGE", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except ValueError as err:
        raise ConfigurationError(f"STORAGE is not valid JSON ({err}): {text[:80]!r}") from None
    return storage_from_config(config)


def _describe(err: ValidationError, kind: str) -> str:
    problems = []
    for error in err.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"][1:]) or "?"
        if error["type"] == "missing":
            problems.append(f"field {field!r} is required for type {kind!r}")
        elif error["type"] == "extra_forbidden":
            problems.append(f"field {field!r} is not allowed for type {kind!r}")
        else:
            problems.append(f"field {field!r}: {error['msg']} (got {error['input']!r})")
    return "STORAGE: " + "; ".join(problems)
