"""Typed configuration of a storage backend (the JSON of the ``STORAGE`` environment variable).

Parsing never lets a raw pydantic dump escape: every problem becomes a one-line
``ConfigurationError`` that names the field, the backend type and what is allowed.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic_core import ErrorDetails

from openfactory.errors import ConfigurationError

if TYPE_CHECKING:
    from openfactory.storage.backends import LocalBackend, NFSBackend
    from openfactory.storage.base import FileBackend

STORAGE_TYPES = ("local", "nfs")
MAX_MOUNT_POINT_LENGTH = 255
_MOUNT_POINT_CHARS = re.compile(r"[a-zA-Z0-9._/-]+")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def _absolute(value: str) -> str:
    """``value`` normalized; refused unless it is an absolute path without NUL."""
    if not value or not posixpath.isabs(value):
        raise ValueError(f"must be an absolute path, got {value!r}")
    if "\x00" in value:
        raise ValueError(f"must not contain a NUL byte, got {value!r}")
    return posixpath.normpath(value)


class BaseBackendConfig(BaseModel):
    """What every storage backend config has: where the app's container sees the files.

    ``mount_point``: absolute, no ``..``, only letters, digits and ``._/-``, at most 255
    characters (normalized). ``description``: free text. Unknown fields are refused and
    strings are stripped; errors are pydantic ``ValidationError``s (``ValueError``s).
    """

    # strict: a number or a list where a path is expected is an error, not silently str()-ed
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, str_strip_whitespace=True)

    description: str | None = None
    mount_point: str

    @field_validator("mount_point")
    @classmethod
    def _mount_point_usable(cls, value: str) -> str:
        if ".." in value.split("/"):
            raise ValueError(f"must not contain '..', got {value!r}")
        value = _absolute(value)
        if not _MOUNT_POINT_CHARS.fullmatch(value):
            raise ValueError(f"may only contain letters, digits and '._/-', got {value!r}")
        if len(value) > MAX_MOUNT_POINT_LENGTH:
            raise ValueError(
                f"must be at most {MAX_MOUNT_POINT_LENGTH} characters, got {len(value)}"
            )
        return value

    def create_backend_instance(self) -> FileBackend:
        """The runtime backend of this config; raises ``NotImplementedError`` on the base."""
        raise NotImplementedError(
            f"{type(self).__name__} has no backend; use LocalBackendConfig or NFSBackendConfig"
        )


class LocalBackendConfig(BaseBackendConfig):
    """Host directory ``local_path``, bind-mounted into the app's container at ``mount_point``.

    ``local_path`` must be absolute; it is a path on the host, so it is not checked here
    (the app's container does not see it).
    """

    type: Literal["local"]
    local_path: str

    @field_validator("local_path")
    @classmethod
    def _local_path_absolute(cls, value: str) -> str:
        return _absolute(value)

    def create_backend_instance(self) -> LocalBackend:
        """A ``LocalBackend`` on this config; raises ``ConfigurationError`` as it does."""
        from openfactory.storage.backends import LocalBackend  # the backends import this module

        return LocalBackend(self)


class NFSBackendConfig(BaseBackendConfig):
    """An NFS export (``server``:``remote_path``) the platform mounts at ``mount_point``.

    ``server``: host name, IPv4, or IPv6 (bare or in brackets). ``mount_options``: NFS mount
    options, stripped, empty ones dropped (``addr=`` comes from ``server``).
    """

    type: Literal["nfs"]
    server: str
    remote_path: str
    mount_options: list[str] | None = None

    @field_validator("server")
    @classmethod
    def _server_is_a_host(cls, value: str) -> str:
        if not _is_host(value):
            raise ValueError(
                f"must be a host name or IP address (IPv6 bare or in brackets), got {value!r}"
            )
        return value

    @field_validator("remote_path")
    @classmethod
    def _remote_path_absolute(cls, value: str) -> str:
        return _absolute(value)

    @field_validator("mount_options")
    @classmethod
    def _options_well_formed(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        options = [option.strip() for option in value if option.strip()]
        for option in options:
            if any(c.isspace() or c == "," for c in option):
                raise ValueError(
                    f"options must be single options without spaces or ',', got {option!r}"
                )
            if option.startswith("addr="):
                raise ValueError(f"{option!r} is not allowed: the address comes from 'server'")
        return options

    def create_backend_instance(self) -> NFSBackend:
        """An ``NFSBackend`` on this config; raises ``ConfigurationError`` as it does."""
        from openfactory.storage.backends import NFSBackend  # the backends import this module

        return NFSBackend(self)


StorageBackend = Annotated[LocalBackendConfig | NFSBackendConfig, Field(discriminator="type")]
"""Either storage backend config, chosen by its ``type`` field."""


class StorageBackendSchema(BaseModel):
    """One validated storage config: ``StorageBackendSchema(storage={...}).storage``.

    Raises pydantic's ``ValidationError`` (a ``ValueError``) for an invalid config.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: StorageBackend


# The SDK's earlier names of the same models.
LocalStorageConfig = LocalBackendConfig
NFSStorageConfig = NFSBackendConfig
StorageConfig = StorageBackend


def _is_host(value: str) -> bool:
    if value.startswith("[") and value.endswith("]"):
        return _is_ip(value[1:-1], ipaddress.IPv6Address)
    if _is_ip(value, ipaddress.ip_address):
        return True
    labels = value.removesuffix(".").split(".")
    return len(value) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _is_ip(value: str, parse: Callable[[str], object]) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


_ADAPTER: TypeAdapter[LocalBackendConfig | NFSBackendConfig] = TypeAdapter(StorageBackend)
_MODELS: dict[str, type[BaseBackendConfig]] = {"local": LocalBackendConfig, "nfs": NFSBackendConfig}
_EXPECTED = {
    "string_type": "a string",
    "list_type": "a list of strings",
}


def parse_storage_config(
    data: Any, source: str = "storage config"
) -> LocalBackendConfig | NFSBackendConfig:
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


def decode_storage_json(text: str, source: str = "STORAGE") -> Any:
    """The decoded JSON of a ``STORAGE`` value; raises ``ConfigurationError`` for invalid JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f'expected an object such as {{"type": "local", "local_path": "/data", '
            f'"mount_point": "/data"}}'
        ) from None


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
