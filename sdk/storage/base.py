"""``FileBackend``: file access confined to one root directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


class StoragePathError(ValueError):
    """A path given to storage would leave its root (absolute, ``..``, or a symlink out)."""


class FileBackend:
    """Files under ``root``; every path is relative to it and may not resolve outside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, relative: str | os.PathLike[str]) -> Path:
        """The absolute path of ``relative`` inside the root; raises ``StoragePathError``."""
        text = os.fspath(relative)
        if "\0" in text:
            raise StoragePathError(f"storage path {text!r} contains a NUL byte")
        if Path(text).is_absolute():
            raise StoragePathError(
                f"storage path {text!r} is absolute; give a path relative to {self.root}"
            )
        resolved = (self.root / text).resolve()
        if not resolved.is_relative_to(self.root):
            raise StoragePathError(f"storage path {text!r} leaves the storage root {self.root}")
        return resolved

    def open(self, relative: str | os.PathLike[str], mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open a file under the root (parents are created for writing modes)."""
        target = self.path(relative)
        if any(flag in mode for flag in "wax+"):
            target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, mode, **kwargs)

    def read_text(self, relative: str | os.PathLike[str], encoding: str = "utf-8") -> str:
        """Contents of a text file."""
        return self.path(relative).read_text(encoding=encoding)

    def write_text(
        self, relative: str | os.PathLike[str], data: str, encoding: str = "utf-8"
    ) -> None:
        """Write a text file, creating parent directories."""
        with self.open(relative, "w", encoding=encoding) as file:
            file.write(data)

    def read_bytes(self, relative: str | os.PathLike[str]) -> bytes:
        """Contents of a binary file."""
        return self.path(relative).read_bytes()

    def write_bytes(self, relative: str | os.PathLike[str], data: bytes) -> None:
        """Write a binary file, creating parent directories."""
        with self.open(relative, "wb") as file:
            file.write(data)

    def exists(self, relative: str | os.PathLike[str]) -> bool:
        """True when the path exists under the root."""
        return self.path(relative).exists()

    def listdir(self, relative: str | os.PathLike[str] = ".") -> list[str]:
        """Sorted entry names of a directory under the root."""
        return sorted(os.listdir(self.path(relative)))

    def makedirs(self, relative: str | os.PathLike[str]) -> Path:
        """Create a directory (and parents) under the root; returns its path."""
        target = self.path(relative)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def delete(self, relative: str | os.PathLike[str]) -> None:
        """Delete a file (or an empty directory) under the root; never the root itself."""
        target = self.path(relative)
        if target == self.root:
            raise StoragePathError(f"refusing to delete the storage root {self.root}")
        if target.is_dir() and not target.is_symlink():
            target.rmdir()
        else:
            target.unlink()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"
