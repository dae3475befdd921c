"""The ksqlDB client's HTTP connections, renewed after a number of requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from openfactory.errors import KSQLDBError


@dataclass(eq=False)
class _Generation:
    """One ``httpx.Client`` and the requests it carries."""

    client: httpx.Client
    in_flight: int = 0
    served: int = 0
    retired: bool = False


class RenewedConnections:
    """Sends each request on the current ``httpx.Client`` (built by ``factory`` when needed);
    after ``max_requests`` completed requests the next request gets a new client, and the old
    one is closed once the requests still in flight on it are answered. Thread-safe."""

    def __init__(self, factory: Callable[[], httpx.Client], max_requests: int) -> None:
        self._factory = factory
        self.max_requests = max_requests
        self._current: _Generation | None = None
        self._closed = False
        self._lock = threading.Lock()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``httpx.Client.request``; raises httpx's errors, ``KSQLDBError`` once closed."""
        generation = self._acquire()
        completed = False
        try:
            response = generation.client.request(method, path, **kwargs)
            completed = True
            return response
        finally:
            self._release(generation, completed)

    def close(self) -> None:
        """Refuse new requests; close the client once idle (idempotent)."""
        with self._lock:
            self._closed = True
            idle = self._retire()
        if idle is not None:
            idle.client.close()

    def _acquire(self) -> _Generation:
        with self._lock:
            if self._closed:
                raise KSQLDBError("the ksqlDB client is closed; create a new client", 50000)
            if self._current is None:
                self._current = _Generation(self._factory())
            self._current.in_flight += 1
            return self._current

    def _release(self, generation: _Generation, completed: bool) -> None:
        with self._lock:
            generation.in_flight -= 1
            generation.served += completed
            if generation is self._current and generation.served >= self.max_requests:
                self._retire()
            idle = generation.retired and generation.in_flight == 0
        if idle:
            generation.client.close()

    def _retire(self) -> _Generation | None:
        """Stop handing out the current client (lock held); return it if it is idle."""
        generation, self._current = self._current, None
        if generation is None:
            return None
        generation.retired = True
        return generation if generation.in_flight == 0 else None
