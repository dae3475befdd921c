"""Storage against a swap race: another process with write access to the storage root swaps a
directory for a symlink to the outside, back and forth, while the app reads and writes under it.
No read or write may ever land outside the root."""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

import pytest

from openfactory._clock import monotonic
from openfactory.storage import LocalBackend, StoragePathError

RACE_SECONDS = 1.0
AT_FDCWD = -100
RENAME_EXCHANGE = 2  # renameat2(2): swap two names atomically

_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)


def exchange(a: Path, b: Path) -> None:
    """Swap names ``a`` and ``b`` in one step (no moment where either is missing)."""
    assert _renameat2 is not None
    if _renameat2(AT_FDCWD, bytes(a), AT_FDCWD, bytes(b), RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a))


@pytest.mark.skipif(_renameat2 is None, reason="needs renameat2 (Linux, glibc >= 2.28)")
def test_a_directory_swapped_for_a_symlink_never_lets_a_read_or_write_out(
    tmp_path: Path,
) -> None:
    backend = LocalBackend({"local_path": "/h", "mount_point": str(tmp_path / "root")})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_text("OUTSIDE\n")
    (backend.root / "d").mkdir()
    (backend.root / "d" / "f").write_text("inside\n")
    (backend.root / "swap").symlink_to(outside)  # what "d" becomes half of the time

    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        while not stop.is_set():
            exchange(backend.root / "d", backend.root / "swap")
            swaps += 1

    counts = {"read": 0, "written": 0, "refused": 0, "read outside": 0, "other error": 0}

    def worker() -> None:
        deadline = monotonic() + RACE_SECONDS
        while monotonic() < deadline:
            try:
                with backend.open("d/f", "a") as file:
                    file.write("written by the app\n")
                counts["written"] += 1
                text = backend.read_text("d/f")
                counts["read"] += 1
                if text.startswith("OUTSIDE"):
                    counts["read outside"] += 1
            except StoragePathError:
                counts["refused"] += 1  # it was the symlink at that moment
            except OSError:
                counts["other error"] += 1

    threads = [threading.Thread(target=swapper), threading.Thread(target=worker)]
    for thread in threads:
        thread.start()
    threads[1].join()
    stop.set()
    threads[0].join()

    written_outside = (outside / "f").read_text().count("written by the app")
    print(f"\n[figure] swap race, {RACE_SECONDS} s, {swaps} swaps: {counts}, "
          f"{written_outside} write(s) outside")  # fmt: skip
    assert written_outside == 0 and counts["read outside"] == 0
    assert sorted(os.listdir(outside)) == ["f"]
    # The race was run: the app met both the directory and the symlink.
    assert swaps > 100 and counts["written"] > 0 and counts["refused"] > 0
