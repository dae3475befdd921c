"""The two storage backends OpenFactory deploys: a local directory and an NFS export."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from typing_extensions import override

from openfactory.errors import ConfigurationError
from openfactory.storage.base import FileBackend
from openfactory.storage.config import (
    LocalStorageConfig,
    NFSStorageConfig,
    parse_storage_config,
)

_Config = TypeVar("_Config", LocalStorageConfig, NFSStorageConfig)


class LocalBackend(FileBackend):
    """Host directory ``local_path`` mounted at ``mount_point``; the app works under the latter.

    Takes a ``LocalStorageConfig`` or the equivalent mapping; raises ``ConfigurationError``
    for an invalid config or a ``mount_point`` that cannot be created.
    """

    config: LocalStorageConfig

    def __init__(self, config: LocalStorageConfig | Mapping[str, Any]) -> None:
        self.config = _coerce(config, LocalStorageConfig, "local", "LocalBackend")
        super().__init__(_created(self.config.mount_point))

    @override
    def mount_spec(self) -> dict[str, Any]:
        """The bind mount that gives an app's container ``local_path`` at ``mount_point``."""
        return {"type": "bind", "source": self.config.local_path, "target": self.config.mount_point}


class NFSBackend(FileBackend):
    """NFS export ``server:remote_path``, mounted by the platform at ``mount_point``.

    Takes an ``NFSStorageConfig`` or the equivalent mapping; raises ``ConfigurationError``
    for an invalid config or a ``mount_point`` that cannot be created.
    """

    config: NFSStorageConfig

    def __init__(self, config: NFSStorageConfig | Mapping[str, Any]) -> None:
        self.config = _coerce(config, NFSStorageConfig, "nfs", "NFSBackend")
        super().__init__(_created(self.config.mount_point))

    def driver_options(self) -> dict[str, str]:
        """Options of docker's ``local`` volume driver that mount the export."""
        options = ",".join([f"addr={self.config.server}", *self.config.mount_options])
        return {"type": "nfs", "o": options, "device": f":{self.config.remote_path}"}

    @override
    def mount_spec(self) -> dict[str, Any]:
        """The docker volume mount (``local`` driver, NFS options) targeting ``mount_point``."""
        return {
            "type": "volume",
            "target": self.config.mount_point,
            "driver": "local",
            "driver_opts": self.driver_options(),
        }


def _coerce(config: Any, model: type[_Config], kind: str, owner: str) -> _Config:
    if isinstance(config, model):
        return config
    if isinstance(config, Mapping):
        data = dict(config)
        data.setdefault("type", kind)
        if data["type"] != kind:
            raise ConfigurationError(
                f"storage config: field 'type' is {data['type']!r} but {owner} "
                f"needs type {kind!r}; use storage_from_config() to pick the backend by type"
            )
        parsed = parse_storage_config(data)
        assert isinstance(parsed, model)  # guaranteed by the 'type' check above
        return parsed
    raise TypeError(
        f"storage config must be a {model.__name__} or a mapping, got {type(config).__name__}"
    )


def _created(mount_point: str) -> Path:
    """``mount_point`` as a directory, created when missing."""
    path = Path(mount_point)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"storage: field 'mount_point' is {mount_point!r}, which cannot be used as a "
            f"directory: {exc.strerror or exc}"
        ) from None
    return path
