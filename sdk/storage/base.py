"""``FileBackend``: file access confined to one root directory."""

from __future__ import annotations

import os
import posixpath
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

StoragePath = str | os.PathLike[str]
"""A path relative to a backend's root."""


class StoragePathError(ValueError):
    """A storage path is unusable: empty, absolute, NUL, or resolving outside the root."""


class FileBackend(ABC):
    """Files under ``root``; every path is relative to it and may not resolve outside it.

    ``root`` is the resolved mount point. Subclasses say how the root is provided
    (``mount_spec``); all file access is shared and goes through ``path``.
    """

    def __init__(self, root: StoragePath) -> None:
        self.root = Path(root).resolve()

    @abstractmethod
    def mount_spec(self) -> dict[str, Any]:
        """The docker mount that gives an app's container this storage at ``root``."""

    def path(self, relative: StoragePath) -> Path:
        """Absolute, symlink-free path of ``relative`` inside the root.

        Raises ``StoragePathError`` for an empty or absolute path, a NUL byte, an unencodable
        name, a symlink loop, or a path that leaves the root through ``..`` or a symlink;
        ``TypeError`` when ``relative`` is not a ``str`` or ``os.PathLike[str]``.
        """
        text = self._checked(relative)
        try:
            resolved = (self.root / text).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (Python 3.11)
            raise StoragePathError(
                f"storage path {text!r} cannot be resolved under the storage root "
                f"{self.root}: {exc}"
            ) from None
        if not resolved.is_relative_to(self.root):
            how = "through '..'" if _climbs_out(text) else "through a symlink"
            raise StoragePathError(
                f"storage path {text!r} leaves the storage root {self.root} {how} "
                f"(resolves to {resolved}); use a path that stays inside the root"
            )
        return resolved

    def open(self, relative: StoragePath, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open a file under the root like ``open()``; writing modes create parent directories.

        Text modes default to UTF-8. Raises ``StoragePathError`` and the usual ``OSError``s.
        """
        target = self.path(relative)
        if any(flag in mode for flag in "wax+"):
            target.parent.mkdir(parents=True, exist_ok=True)
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        return open(target, mode, **kwargs)

    def read_text(self, relative: StoragePath, encoding: str = "utf-8") -> str:
        """Contents of a text file; raises ``StoragePathError`` or ``FileNotFoundError``."""
        return self.path(relative).read_text(encoding=encoding)

    def write_text(self, relative: StoragePath, data: str, encoding: str = "utf-8") -> None:
        """Write a text file, creating parent directories; raises ``StoragePathError``."""
        with self.open(relative, "w", encoding=encoding) as file:
            file.write(data)

    def read_bytes(self, relative: StoragePath) -> bytes:
        """Contents of a binary file; raises ``StoragePathError`` or ``FileNotFoundError``."""
        return self.path(relative).read_bytes()

    def write_bytes(self, relative: StoragePath, data: bytes) -> None:
        """Write a binary file, creating parent directories; raises ``StoragePathError``."""
        with self.open(relative, "wb") as file:
            file.write(data)

    def exists(self, relative: StoragePath) -> bool:
        """True when the path exists under the root; raises ``StoragePathError``."""
        return self.path(relative).exists()

    def listdir(self, relative: StoragePath = ".") -> list[str]:
        """Sorted entry names of a directory under the root.

        Raises ``StoragePathError``, ``FileNotFoundError`` or ``NotADirectoryError``.
        """
        return sorted(os.listdir(self.path(relative)))

    def makedirs(self, relative: StoragePath, exist_ok: bool = True) -> Path:
        """Create a directory and its parents under the root; returns its path.

        Raises ``StoragePathError``, or ``FileExistsError`` when it exists and not ``exist_ok``.
        """
        target = self.path(relative)
        target.mkdir(parents=True, exist_ok=exist_ok)
        return target

    def delete(self, relative: StoragePath, *, recursive: bool = False) -> None:
        """Delete a file, a symlink (not its target) or an empty directory under the root.

        ``recursive=True`` also deletes a non-empty directory. Never deletes the root.
        Raises ``StoragePathError``, ``FileNotFoundError``, or ``OSError`` for a non-empty
        directory without ``recursive``.
        """
        entry = self._entry(relative)
        if entry == self.root:
            raise StoragePathError(f"refusing to delete the storage root {self.root}")
        if entry.is_symlink():
            entry.unlink()
        elif entry.is_dir():
            if recursive:
                shutil.rmtree(entry)
            else:
                entry.rmdir()
        else:
            entry.unlink()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r})"

    def _checked(self, relative: StoragePath) -> str:
        """The path as text, refused when it cannot name a file under the root."""
        if not isinstance(relative, str | os.PathLike):
            raise TypeError(
                f"storage path must be a str or os.PathLike, got {type(relative).__name__}"
            )
        text = os.fspath(relative)
        if not isinstance(text, str):
            raise TypeError(f"storage path must be text, got {type(text).__name__} {text!r}")
        if not text:
            raise StoragePathError(
                f"storage path '' is empty; use '.' for the storage root {self.root}"
            )
        if "\0" in text:
            raise StoragePathError(
                f"storage path {text!r} contains a NUL byte (storage root {self.root})"
            )
        try:
            os.fsencode(text)
        except UnicodeEncodeError:
            raise StoragePathError(
                f"storage path {text!r} cannot be encoded as a file name (storage root {self.root})"
            ) from None
        if os.path.isabs(text):
            raise StoragePathError(
                f"storage path {text!r} is absolute; give a path relative to "
                f"the storage root {self.root}"
            )
        return text

    def _entry(self, relative: StoragePath) -> Path:
        """Confined path whose last component is not followed (so a symlink names itself)."""
        text = self._checked(relative)
        head, tail = posixpath.split(text.rstrip("/"))
        if tail in ("", ".", ".."):
            return self.path(text)
        return self.path(head or ".") / tail


def _climbs_out(text: str) -> bool:
    """True when ``text`` alone (ignoring symlinks) climbs above its starting directory."""
    depth = 0
    for part in text.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False
