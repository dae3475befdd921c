"""Walking a path beneath a root directory without leaving it, even while someone swaps
directories and symlinks under it.

Each component is opened relative to the directory descriptor reached so far, with
``O_NOFOLLOW``: the kernel follows no symlink on our behalf. A symlink met on the way is read
(``readlink`` relative to the same descriptor, one atomic look) and its target walked the same
way; ``..`` goes back to the descriptor held for the parent. So what is checked is what is
used: there is no path resolved first and opened by name later, and a directory replaced by a
symlink to the outside between two operations is seen as the symlink it has become.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections import deque
from collections.abc import Iterator

MAX_SYMLINKS = 40  # as the kernel (ELOOP)
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# What a lookup of a name that is not (or no longer) a directory can fail with.
_NOT_THERE = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG)


class Escape(Exception):
    """The path leads out of the root; ``how`` says by what (``..`` or a symlink)."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


class SymlinkLoop(Exception):
    """More than ``MAX_SYMLINKS`` symlinks on the way: a loop."""


class Changed(Exception):
    """The entry changed kind (became a symlink) between two looks: walk again."""


class Cursor:
    """Where a walk stands: descriptors of the directories entered (the root first, then one
    per name of ``names``), and the names below them that do not exist (``missing``)."""

    def __init__(self, root_fd: int) -> None:
        self.fds = [root_fd]
        self.names: list[str] = []
        self.missing: list[str] = []

    @property
    def fd(self) -> int:
        """The deepest directory entered."""
        return self.fds[-1]

    def enter(self, fd: int, name: str) -> None:
        """Go down into directory ``name``, open as ``fd`` (now owned by the cursor)."""
        self.fds.append(fd)
        self.names.append(name)

    def up(self) -> bool:
        """Go to the parent; False at the root (nothing above it is ours)."""
        if self.missing:
            self.missing.pop()
            return True
        if len(self.fds) == 1:
            return False
        os.close(self.fds.pop())
        self.names.pop()
        return True

    def to_root(self) -> None:
        """Back to the root (an absolute symlink target inside it)."""
        while len(self.fds) > 1:
            os.close(self.fds.pop())
        self.names.clear()
        self.missing.clear()

    def make_missing(self) -> None:
        """Create the missing directories, entering each; ``OSError`` if one is no directory."""
        while self.missing:
            name = self.missing[0]
            # Made meanwhile, or a file: the open below tells.
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=self.fd)
            self.enter(open_directory(self.fd, name), name)
            self.missing.pop(0)

    def close(self) -> None:
        """Release every descriptor."""
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


def open_directory(dir_fd: int, name: str) -> int:
    """Descriptor of directory ``name`` in ``dir_fd``, not following a symlink.

    Raises ``Changed`` when ``name`` is a symlink, ``NotADirectoryError`` or
    ``FileNotFoundError`` as ``open`` does otherwise.
    """
    try:
        return os.open(name, DIRECTORY_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP or (err.errno == errno.ENOTDIR and _link(dir_fd, name)):
            raise Changed(name) from None
        raise


@contextlib.contextmanager
def walk(
    root: str, aliases: tuple[tuple[str, ...], ...], text: str, *, follow_last: bool
) -> Iterator[tuple[Cursor, str | None]]:
    """Walk ``text`` (relative) beneath directory ``root``; yield the cursor at the directory
    holding the entry and the entry's name (``None`` when ``text`` names the cursor's directory
    itself, e.g. ``.`` or ``a/..``). Names that do not exist are walked by name (``missing``).

    A symlink on the way is followed when its target stays beneath the root: a relative one
    from where it is, an absolute one when it starts with one of ``aliases`` (the root's
    spellings, as path parts). The last name is followed only with ``follow_last``. Raises
    ``Escape``, ``SymlinkLoop`` or ``OSError``.
    """
    cursor = Cursor(os.open(root, DIRECTORY_FLAGS & ~os.O_NOFOLLOW))
    try:
        yield cursor, _walk(cursor, aliases, text, follow_last)
    finally:
        cursor.close()


def _walk(
    cursor: Cursor, aliases: tuple[tuple[str, ...], ...], text: str, follow_last: bool
) -> str | None:
    pending: deque[tuple[str, bool]] = deque((part, False) for part in _parts(text))
    links = 0
    while pending:
        name, from_link = pending.popleft()
        if name == "..":
            if not cursor.up():
                raise Escape("through a symlink" if from_link else "through '..'")
            continue
        last = not pending
        if cursor.missing:
            if last:
                return name
            cursor.missing.append(name)  # below a missing directory: nothing more to look up
            continue
        target = _link(cursor.fd, name) if (follow_last or not last) else None
        if target is None:
            if last:
                return name
            try:
                cursor.enter(open_directory(cursor.fd, name), name)
            except Changed:
                pending.appendleft((name, from_link))  # it became a symlink: read it
            except OSError as err:
                if err.errno not in _NOT_THERE:
                    raise
                cursor.missing.append(name)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise SymlinkLoop(name)
        if target.startswith("/"):
            target = _below_root(target, aliases)
            cursor.to_root()
        pending.extendleft((part, True) for part in reversed(_parts(target)))
    return None


def _parts(text: str) -> list[str]:
    return [part for part in text.split("/") if part not in ("", ".")]


def _link(dir_fd: int, name: str) -> str | None:
    """The target of symlink ``name`` in ``dir_fd``, ``None`` when it is no symlink."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.EINVAL, *_NOT_THERE):
            return None
        raise


def _below_root(target: str, aliases: tuple[tuple[str, ...], ...]) -> str:
    """The part of absolute symlink target ``target`` below the root; ``Escape`` if outside."""
    parts = tuple(part for part in target.split("/") if part)
    for alias in aliases:
        if parts[: len(alias)] == alias:
            return "/".join(parts[len(alias) :])
    raise Escape("through a symlink")
