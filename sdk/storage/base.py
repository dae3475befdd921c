"""``FileBackend``: file access confined to one root directory."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from openfactory.storage import _beneath

StoragePath = str | os.PathLike[str]
"""A path relative to a backend's root, or absolute inside it."""


class StoragePathError(ValueError):
    """A storage path is unusable: empty, NUL, or outside the root (absolute or resolved)."""


class FileBackend(ABC):
    """Files under ``root``; a path is relative to it, or absolute inside it, and may not
    resolve outside it (through ``..`` or a symlink, even one swapped in while it is used:
    every file method walks its path descriptor by descriptor, see ``_beneath``).

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

        The answer describes the files as they are now; the file methods of this class do not
        go through it: each walks its path again, descriptor by descriptor (no window between
        the check and the use).
        """
        with self._walk(relative, follow_last=True) as (cursor, name):
            return self.root.joinpath(*cursor.names, *cursor.missing, *([name] if name else []))

    def open(self, relative: StoragePath, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open a file under the root like ``open()``; writing modes create parent directories.

        Text modes default to UTF-8. Raises ``StoragePathError`` and the usual ``OSError``s.
        """
        flags = _open_flags(mode)
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
        for _ in range(_ATTEMPTS):
            with self._walk(relative, follow_last=True) as (cursor, name):
                if name is None:
                    raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(relative))
                try:
                    if cursor.missing:
                        if not flags & os.O_CREAT and "+" not in mode:
                            raise _not_found(relative)
                        cursor.make_missing()
                    fd = os.open(name, flags, 0o666, dir_fd=cursor.fd)
                except _beneath.Changed:
                    continue
                except OSError as err:
                    if err.errno == errno.ELOOP:
                        continue  # it became a symlink since it was looked at: walk again
                    raise _named(err, relative) from None
            try:
                return open(fd, mode, **kwargs)
            except BaseException:
                os.close(fd)
                raise
        raise self._kept_changing(relative)

    def read_text(self, relative: StoragePath, encoding: str = "utf-8") -> str:
        """Contents of a text file; raises ``StoragePathError`` or ``FileNotFoundError``."""
        with self.open(relative, "r", encoding=encoding) as file:
            return str(file.read())

    def write_text(self, relative: StoragePath, data: str, encoding: str = "utf-8") -> None:
        """Write a text file, creating parent directories; raises ``StoragePathError``."""
        with self.open(relative, "w", encoding=encoding) as file:
            file.write(data)

    def read_bytes(self, relative: StoragePath) -> bytes:
        """Contents of a binary file; raises ``StoragePathError`` or ``FileNotFoundError``."""
        with self.open(relative, "rb") as file:
            return bytes(file.read())

    def write_bytes(self, relative: StoragePath, data: bytes) -> None:
        """Write a binary file, creating parent directories; raises ``StoragePathError``."""
        with self.open(relative, "wb") as file:
            file.write(data)

    def exists(self, relative: StoragePath) -> bool:
        """True when the path exists under the root; raises ``StoragePathError``."""
        with self._walk(relative, follow_last=True) as (cursor, name):
            if cursor.missing:
                return False
            if name is None:
                return True
            try:
                os.stat(name, dir_fd=cursor.fd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                return False
            return True

    def listdir(self, relative: StoragePath = ".") -> list[str]:
        """Sorted entry names of a directory under the root.

        Raises ``StoragePathError``, or ``FileNotFoundError`` when the directory is missing
        or is not a directory.
        """
        for _ in range(_ATTEMPTS):
            with self._walk(relative, follow_last=True) as (cursor, name):
                if cursor.missing:
                    raise _not_found(relative)
                if name is None:
                    return sorted(os.listdir(cursor.fd))
                try:
                    fd = _beneath.open_directory(cursor.fd, name)
                except _beneath.Changed:
                    continue
                except NotADirectoryError:
                    raise FileNotFoundError(
                        errno.ENOTDIR, "storage path is not a directory", os.fspath(relative)
                    ) from None
                except OSError as err:
                    raise _named(err, relative) from None
                try:
                    return sorted(os.listdir(fd))
                finally:
                    os.close(fd)
        raise self._kept_changing(relative)

    def makedirs(self, relative: StoragePath, exist_ok: bool = True) -> Path:
        """Create a directory and its parents under the root; returns its path.

        Raises ``StoragePathError``, or ``FileExistsError`` when it exists and not ``exist_ok``.
        """
        for _ in range(_ATTEMPTS):
            with self._walk(relative, follow_last=True) as (cursor, name):
                if name is not None and not cursor.missing:
                    try:
                        os.mkdir(name, dir_fd=cursor.fd)
                    except FileExistsError:
                        if not exist_ok:
                            raise FileExistsError(
                                errno.EEXIST, "exists already", os.fspath(relative)
                            ) from None
                elif not exist_ok and not cursor.missing:
                    raise FileExistsError(errno.EEXIST, "exists already", os.fspath(relative))
                if name is not None:
                    cursor.missing.append(name)
                try:
                    cursor.make_missing()
                except _beneath.Changed:
                    continue
                except NotADirectoryError:
                    raise FileExistsError(
                        errno.EEXIST, "exists and is not a directory", os.fspath(relative)
                    ) from None
                except OSError as err:
                    raise _named(err, relative) from None
                return self.root.joinpath(*cursor.names)
        raise self._kept_changing(relative)

    def delete(self, relative: StoragePath, *, recursive: bool = False) -> None:
        """Delete a file, a symlink (not its target) or an empty directory under the root.

        ``recursive=True`` also deletes a non-empty directory. Never deletes the root.
        Raises ``StoragePathError``, ``FileNotFoundError``, or ``OSError`` for a non-empty
        directory without ``recursive``.
        """
        with self._walk(relative, follow_last=False) as (cursor, name):
            if cursor.missing:
                raise _not_found(relative)
            if name is None:
                if len(cursor.fds) == 1:
                    raise StoragePathError(f"refusing to delete the storage root {self.root}")
                # ``a/b/..`` names ``a`` itself: delete it from its parent.
                dir_fd, name = cursor.fds[-2], cursor.names[-1]
            else:
                dir_fd = cursor.fd
            try:
                mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
                if not stat.S_ISDIR(mode):
                    os.unlink(name, dir_fd=dir_fd)  # a file, or a symlink itself
                elif recursive:
                    shutil.rmtree(name, dir_fd=dir_fd)  # descriptor-based: follows no link
                else:
                    os.rmdir(name, dir_fd=dir_fd)
            except OSError as err:
                raise _named(err, relative) from None

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

    @contextmanager
    def _walk(
        self, relative: StoragePath, *, follow_last: bool
    ) -> Iterator[tuple[_beneath.Cursor, str | None]]:
        """``_beneath.walk`` of ``relative`` under the root, its refusals as
        ``StoragePathError``."""
        text = self._checked(relative)
        shown = os.fspath(relative)
        aliases = tuple(dict.fromkeys(p.parts[1:] for p in (self.root, self._given_root())))
        try:
            with _beneath.walk(str(self.root), aliases, text, follow_last=follow_last) as walked:
                yield walked
        except _beneath.Escape as escape:
            raise StoragePathError(
                f"storage path {shown!r} leaves the storage root {self.root} {escape.how}; "
                "use a path that stays inside the root"
            ) from None
        except _beneath.SymlinkLoop:
            raise StoragePathError(
                f"storage path {shown!r} cannot be resolved under the storage root "
                f"{self.root}: too many levels of symbolic links (a symlink loop)"
            ) from None

    def _kept_changing(self, relative: StoragePath) -> StoragePathError:
        return StoragePathError(
            f"storage path {os.fspath(relative)!r} kept changing between a directory and a "
            f"symlink while it was opened (storage root {self.root}); try again"
        )


_ATTEMPTS = 100  # walks of a path that keeps turning into a symlink before giving up
_MODE_FLAGS = {
    "r": os.O_RDONLY,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def _open_flags(mode: str) -> int:
    """``os.open`` flags for ``open()`` mode ``mode``; the last name is never followed."""
    kinds = [c for c in mode if c in _MODE_FLAGS]
    if len(kinds) != 1 or not set(mode) <= set("rwaxbt+"):
        raise ValueError(f"invalid mode: {mode!r}")
    flags = _MODE_FLAGS[kinds[0]]
    if "+" in mode:
        flags = (flags & ~(os.O_RDONLY | os.O_WRONLY)) | os.O_RDWR
    return flags | os.O_NOFOLLOW | os.O_CLOEXEC


def _named(err: OSError, relative: StoragePath) -> OSError:
    """``err`` naming the storage path, not the last component the system call saw."""
    return type(err)(err.errno, err.strerror, os.fspath(relative))


def _not_found(relative: StoragePath) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "no such file or directory", os.fspath(relative))
