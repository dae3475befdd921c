"""The two storage backends OpenFactory deploys: a local directory and an NFS export."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from typing_extensions import override

from openfactory.errors import ConfigurationError
from openfactory.storage.base import FileBackend
from openfactory.storage.config import (
    LocalBackendConfig,
    NFSBackendConfig,
    parse_storage_config,
)

_Config = TypeVar("_Config", LocalBackendConfig, NFSBackendConfig)


class LocalBackend(FileBackend):
    """Host directory ``local_path`` mounted at ``mount_point``; the app works under the latter.

    ``root`` is ``mount_point`` (created when missing): that is where the app's container sees
    the files; ``local_path`` is only the mount's source on the host. Takes a
    ``LocalBackendConfig`` or the equivalent mapping; raises ``ConfigurationError`` for an
    invalid config or a ``mount_point`` that cannot be created.
    """

    config: LocalBackendConfig

    def __init__(self, config: LocalBackendConfig | Mapping[str, Any]) -> None:
        parsed = _coerce(config, LocalBackendConfig, "local", "LocalBackend")
        super().__init__(parsed, _created(parsed.mount_point))

    @staticmethod
    @override
    def from_config(config: Mapping[str, Any]) -> LocalBackend:
        """``LocalBackend(config)``; raises ``ConfigurationError`` for an invalid config."""
        return LocalBackend(config)

    @override
    def get_mount_spec(self) -> dict[str, Any]:
        """The bind mount that gives an app's container ``local_path`` at ``mount_point``."""
        return {
            "Type": "bind",
            "Source": self.config.local_path,
            "Target": self.config.mount_point,
            "ReadOnly": False,
        }

    @override
    def compatible_with_swarm(self) -> bool:
        """False: a host directory is on one node only."""
        return False


class NFSBackend(FileBackend):
    """NFS export ``server:remote_path``, mounted by the platform at ``mount_point`` (the root).

    Takes an ``NFSBackendConfig`` or the equivalent mapping; raises ``ConfigurationError``
    for an invalid config or a ``mount_point`` that cannot be created.
    """

    config: NFSBackendConfig

    def __init__(self, config: NFSBackendConfig | Mapping[str, Any]) -> None:
        parsed = _coerce(config, NFSBackendConfig, "nfs", "NFSBackend")
        super().__init__(parsed, _created(parsed.mount_point))

    @staticmethod
    @override
    def from_config(config: Mapping[str, Any]) -> NFSBackend:
        """``NFSBackend(config)``; raises ``ConfigurationError`` for an invalid config."""
        return NFSBackend(config)

    def make_volume_name(self) -> str:
        """``nfs_<server>_<remote path>`` (``.`` and ``/`` as ``_``), plus the first 8 hex
        digits of the SHA-1 of the sorted mount options when there are any."""
        server = self.config.server.replace(".", "_")
        remote = self.config.remote_path.strip("/").replace("/", "_")
        name = f"nfs_{server}_{remote}"
        options = self.config.mount_options or []
        if options:
            digest = hashlib.sha1(",".join(sorted(options)).encode(), usedforsecurity=False)
            name += f"_{digest.hexdigest()[:8]}"
        return name

    def driver_options(self) -> dict[str, str]:
        """Options of docker's ``local`` volume driver that mount the export (NFS v4 unless
        a mount option sets ``nfsvers=``)."""
        options = self.config.mount_options or []
        parts = [f"addr={self.config.server}", *options]
        if not any("nfsvers=" in option for option in options):
            parts.append("nfsvers=4")
        return {"type": "nfs", "o": ",".join(parts), "device": f":{self.config.remote_path}"}

    @override
    def get_mount_spec(self) -> dict[str, Any]:
        """The docker volume mount (``local`` driver, NFS options) targeting ``mount_point``."""
        return {
            "Type": "volume",
            "Source": self.make_volume_name(),
            "Target": self.config.mount_point,
            "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": self.driver_options()}},
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
