"""``Lines``: the lines a child process writes to a pipe, waited on by condition (no sleeping)."""

from __future__ import annotations

import threading
from typing import IO

import pytest


class Lines:
    """Collects the lines of ``pipe`` on a thread of its own; ``wait_for`` blocks until one
    contains a text, and fails the test with everything written if none does in time."""

    def __init__(self, pipe: IO[str], timeout: float = 30.0) -> None:
        self.lines: list[str] = []
        self.timeout = timeout
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, text: str) -> str:
        """The first line containing ``text``, once it is written."""

        def found() -> str | None:
            return next((line for line in self.lines if text in line), None)

        with self._changed:
            if not self._changed.wait_for(found, self.timeout):
                pytest.fail(
                    f"{text!r} never appeared; the process wrote:\n" + "\n".join(self.lines)
                )
            return found() or ""
