"""Typed configuration of a storage backend (the JSON of the ``STORAGE`` environment variable).

Parsing never lets a raw pydantic dump escape: every problem becomes a one-line
``ConfigurationError`` that names the field, the backend type and what is allowed.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import ErrorDetails

from openfactory.errors import ConfigurationError

STORAGE_TYPES = ("local", "nfs")


def _absolute(value: str) -> str:
    if not value or not posixpath.isabs(value):
        raise ValueError(f"must be an absolute path, got {value!r}")
    if "\x00" in value:
        raise ValueError(f"must not contain a NUL byte, got {value!r}")
    return value


class _StorageConfig(BaseModel):
    # strict: a number or a list where a path is expected is an error, not silently str()-ed
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    mount_point: str

    @field_validator("mount_point")
    @classmethod
    def _mount_point_absolute(cls, value: str) -> str:
        return _absolute(value)


class LocalStorageConfig(_StorageConfig):
    """Host directory ``local_path``, bind-mounted into the app's container at ``mount_point``."""

    type: Literal["local"]
    local_path: str

    @field_validator("local_path")
    @classmethod
    def _local_path_absolute(cls, value: str) -> str:
        return _absolute(value)


class NFSStorageConfig(_StorageConfig):
    """An NFS export (``server``:``remote_path``) the platform mounts at ``mount_point``."""

    type: Literal["nfs"]
    server: str
    remote_path: str
    mount_options: tuple[str, ...] = ()

    @field_validator("server")
    @classmethod
    def _server_is_a_host(cls, value: str) -> str:
        if not value or any(c.isspace() or c in ",/" for c in value):
            raise ValueError(
                f"must be a host name or IP address (no spaces, ',' or '/'), got {value!r}"
            )
        return value

    @field_validator("remote_path")
    @classmethod
    def _remote_path_absolute(cls, value: str) -> str:
        return _absolute(value)

    @field_validator("mount_options", mode="before")
    @classmethod
    def _options_from_list(cls, value: Any) -> Any:
        # JSON gives a list; strict mode would otherwise refuse it for a tuple field
        return tuple(value) if isinstance(value, list) else value

    @field_validator("mount_options")
    @classmethod
    def _options_well_formed(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for option in value:
            if not option or any(c.isspace() for c in option):
                raise ValueError(f"options must be non-empty and without spaces, got {option!r}")
            if option.startswith("addr="):
                raise ValueError(f"{option!r} is not allowed: the address comes from 'server'")
        return value


StorageConfig = Annotated[LocalStorageConfig | NFSStorageConfig, Field(discriminator="type")]
"""Either storage configuration, chosen by its ``type`` field."""

_ADAPTER: TypeAdapter[LocalStorageConfig | NFSStorageConfig] = TypeAdapter(StorageConfig)
_MODELS: dict[str, type[_StorageConfig]] = {"local": LocalStorageConfig, "nfs": NFSStorageConfig}
_EXPECTED = {
    "string_type": "a string",
    "tuple_type": "a list of strings",
    "list_type": "a list of strings",
}


def parse_storage_config(
    data: Any, source: str = "storage config"
) -> LocalStorageConfig | NFSStorageConfig:
    """Validate a decoded storage configuration mapping.

    Raises ``ConfigurationError`` (message prefixed by ``source``) naming the bad field.
    """
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"{source}: expected a JSON object such as "
            f'{{"type": "local", "local_path": "/data", "mount_point": "/data"}}, '
            f"got {type(data).__name__}"
        )
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = "; ".join(_describe(error, data) for error in exc.errors())
        raise ConfigurationError(f"{source}: {problems}") from None


def parse_storage_json(text: str, source: str = "STORAGE") -> LocalStorageConfig | NFSStorageConfig:
    """Decode and validate the JSON text of a storage configuration.

    Raises ``ConfigurationError`` for invalid JSON or an invalid configuration.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f'expected an object such as {{"type": "local", "local_path": "/data", '
            f'"mount_point": "/data"}}'
        ) from None
    return parse_storage_config(data, source)


def _describe(error: ErrorDetails, data: Mapping[Any, Any]) -> str:
    """One clause naming the field of one pydantic error, without pydantic's formatting."""
    kind = error["type"]
    allowed = ", ".join(repr(t) for t in STORAGE_TYPES)
    if kind == "union_tag_not_found":
        return f"field 'type' is required; allowed: {allowed}"
    if kind == "union_tag_invalid":
        return f"field 'type' is {data.get('type')!r}; allowed: {allowed}"
    storage_type = str(error["loc"][0]) if error["loc"] else "?"
    field_path = [str(part) for part in error["loc"][1:]]
    field = field_path[0] if field_path else "?"
    where = f"field {field!r}"
    if len(field_path) > 1:
        where += f" (item {field_path[1]})"
    for_type = f"for type {storage_type!r}"
    if kind == "missing":
        return f"{where} is required {for_type}"
    if kind == "extra_forbidden":
        model = _MODELS.get(storage_type)
        fields = ", ".join(model.model_fields) if model else ""
        return f"{where} is not allowed {for_type}; allowed fields: {fields}"
    if kind in _EXPECTED:
        got = type(error["input"]).__name__
        return f"{where} must be {_EXPECTED[kind]} {for_type}, got {got}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where} {for_type}: {message}"
