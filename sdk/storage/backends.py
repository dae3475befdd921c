"""The two storage backends OpenFactory deploys: a local directory and an NFS export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openfactory.storage.base import FileBackend
from openfactory.storage.config import LocalStorageConfig, NFSStorageConfig


class LocalBackend(FileBackend):
    """Host directory ``local_path`` mounted at ``mount_point``; the app works under the latter."""

    def __init__(self, config: LocalStorageConfig) -> None:
        Path(config.mount_point).mkdir(parents=True, exist_ok=True)
        super().__init__(config.mount_point)
        self.config = config

    def mount_spec(self) -> dict[str, Any]:
        """The bind mount a deployment gives the app's container."""
        return {"type": "bind", "source": self.config.local_path, "target": self.config.mount_point}


class NFSBackend(FileBackend):
    """NFS export ``server:remote_path`` mounted by the platform at ``mount_point``."""

    def __init__(self, config: NFSStorageConfig) -> None:
        Path(config.mount_point).mkdir(parents=True, exist_ok=True)
        super().__init__(config.mount_point)
        self.config = config

    def mount_spec(self) -> dict[str, Any]:
        """Docker ``local`` volume driver options that mount the export."""
        options = ",".join([f"addr={self.config.server}", *self.config.mount_options])
        return {
            "type": "volume",
            "target": self.config.mount_point,
            "driver": "local",
            "driver_opts": {"type": "nfs", "o": options, "device": f":{self.config.remote_path}"},
        }
