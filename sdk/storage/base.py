"""``FileBackend``: file access confined to one root directory."""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

StoragePath = str | os.PathLike[str]
"""A path relative to a backend's root, or absolute inside it."""


class StoragePathError(ValueError):
    """A storage path is unusable: empty, NUL, or outside the root (absolute or resolved)."""


class FileBackend(ABC):
    """Files under ``root``; a path is relative to it, or absolute inside it, and may not
    resolve outside it.

    ``config`` is the backend's configuration; ``root`` is the resolved directory the files
    are under. Subclasses say how the root is provided (``get_mount_spec``); all file access
    is shared and goes through ``path``. A subclass that keeps its files elsewhere may call
    ``super().__init__(config)`` without a root and override the file methods.
    """

    def __init__(self, config: Any, root: StoragePath | None = None) -> None:
        self.config = config
        self._root: Path | None = None if root is None else Path(root).resolve()

    @property
    def root(self) -> Path:
        """The resolved directory every path is confined to.

        Raises ``NotImplementedError`` for a backend built without one.
        """
        if self._root is None:
            raise NotImplementedError(
                f"{type(self).__name__} was built without a root directory: pass root= to "
                "FileBackend.__init__ or override open/exists/delete/listdir"
            )
        return self._root

    @abstractmethod
    def get_mount_spec(self) -> dict[str, Any] | None:
        """The docker mount that gives an app's container this storage, or ``None``."""

    def compatible_with_swarm(self) -> bool:
        """True when every node of a swarm can reach the same files (default)."""
        return True

    @staticmethod
    def from_config(config: dict[str, Any]) -> FileBackend:
        """The backend of ``config``; subclasses implement it, the base raises
        ``NotImplementedError``."""
        raise NotImplementedError(
            "FileBackend.from_config is implemented by LocalBackend and NFSBackend; "
            "use openfactory.storage.storage_from_config() to pick one by 'type'"
        )

    def path(self, relative: StoragePath) -> Path:
        """Absolute, symlink-free path of ``relative`` inside the root.

        ``relative`` is relative to the root, or absolute inside it (``root / "a.txt"``).
        Raises ``StoragePathError`` (a ``ValueError``) for an empty path, a NUL byte, an
        unencodable name, a symlink loop, an absolute path outside the root, or a path that
        leaves the root through ``..`` or a symlink; ``TypeError`` when ``relative`` is not a
        ``str`` or ``os.PathLike[str]``.
        """
        text = self._checked(relative)
        shown = os.fspath(relative)
        try:
            resolved = (self.root / text).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop (Python 3.11)
            raise StoragePathError(
                f"storage path {shown!r} cannot be resolved under the storage root "
                f"{self.root}: {exc}"
            ) from None
        if not resolved.is_relative_to(self.root):
            how = "through '..'" if _climbs_out(text) else "through a symlink"
            raise StoragePathError(
                f"storage path {shown!r} leaves the storage root {self.root} {how} "
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

        Raises ``StoragePathError``, or ``FileNotFoundError`` when the directory is missing
        or is not a directory.
        """
        target = self.path(relative)
        try:
            return sorted(os.listdir(target))
        except NotADirectoryError:
            raise FileNotFoundError(
                errno.ENOTDIR, "storage path is not a directory", os.fspath(relative)
            ) from None

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
        return f"{type(self).__name__}(root={str(self._root)!r})"

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
            return self._inside_root(text)
        return text

    def _inside_root(self, absolute: str) -> str:
        """The part of an absolute path below the root; refused when it is not below it."""
        parts = Path(absolute).parts
        for root in dict.fromkeys((self.root, self._given_root())):
            if parts[: len(root.parts)] == root.parts:
                return "/".join(parts[len(root.parts) :]) or "."
        raise StoragePathError(
            f"Path {absolute} is outside backend root {self.root}; "
            "give a path relative to the root or absolute inside it"
        )

    def _given_root(self) -> Path:
        """The root as configured (before symlinks were resolved), when the config says."""
        mount_point = getattr(self.config, "mount_point", None)
        return Path(mount_point) if isinstance(mount_point, str) else self.root

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
