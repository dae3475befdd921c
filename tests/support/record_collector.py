"""``Collector``: a subscription callback the project's tests can wait on (no sleeping)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from openfactory.transport import Record


class Collector:
    """A subscription callback that keeps what it receives and lets a test wait on it."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._changed = threading.Condition()

    def __call__(self, record: Record) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait_for(
        self, condition: Callable[[list[Record]], bool], timeout: float = 5.0
    ) -> list[Record]:
        """Wait until ``condition(records)`` holds; fail the test with what arrived if not."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.records):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"timed out after {timeout}s; received: {self.records}")
                self._changed.wait(remaining)
            return list(self.records)

    def wait_count(self, count: int, timeout: float = 5.0) -> list[Record]:
        """Wait until at least ``count`` records arrived."""
        return self.wait_for(lambda records: len(records) >= count, timeout)

    def values(self) -> list[bytes | None]:
        """The values received so far, in order."""
        with self._changed:
            return [r.value for r in self.records]
