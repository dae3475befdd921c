"""``AsyncLoopThread``: an asyncio event loop running in a daemon thread, for clients that are
coroutines (nats-py) used from plain threads. The platform library has a helper of this name
and shape (``loop``, ``thread``, ``run_coro``, ``stop``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from openfactory._threads import start_background_thread
from openfactory.errors import TransportError

T = TypeVar("T")


class LoopStoppedError(TransportError, RuntimeError):
    """A coroutine was given to an ``AsyncLoopThread`` whose loop was stopped."""


class AsyncLoopThread:
    """An event loop of its own, run by a daemon thread started at construction."""

    def __init__(self, name: str = "openfactory-asyncio") -> None:
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(started.set)
            self.loop.run_forever()

        self.thread = start_background_thread(serve, name=name)
        started.wait()

    def run_coro(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; its result arrives in the returned future.

        Raises ``LoopStoppedError`` (a ``TransportError`` and a ``RuntimeError``, as asyncio
        raises for a closed loop) if the loop was stopped.
        """
        if self.loop.is_closed() or not self.thread.is_alive():
            coro.close()
            raise LoopStoppedError(f"the event loop of {self.thread.name} was stopped")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result at most ``timeout`` s.

        Raises what ``coro`` raises, ``TimeoutError`` (after cancelling it) past ``timeout``,
        and ``TransportError`` when called from the loop's own thread, which would wait forever.
        """
        if threading.current_thread() is self.thread:
            coro.close()
            raise TransportError(
                f"cannot wait for the event loop from its own thread ({self.thread.name})"
            )
        future = self.run_coro(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no result within {timeout}s") from None

    @property
    def on_loop_thread(self) -> bool:
        """True when called from the loop's own thread."""
        return threading.current_thread() is self.thread

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the pending tasks, stop the loop and its thread, and close the loop
        (idempotent; from the loop's own thread the loop is only asked to stop)."""
        if self.loop.is_closed():
            return
        try:
            self.loop.call_soon_threadsafe(self._cancel_and_stop)
        except RuntimeError:
            return  # closed meanwhile by another stop()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)
            if not self.thread.is_alive():
                self.loop.close()

    def _cancel_and_stop(self) -> None:
        tasks = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if not tasks:
            self.loop.stop()
            return
        # Let the cancelled tasks run their cleanup before the loop stops.
        gathered = asyncio.gather(*tasks, return_exceptions=True)
        gathered.add_done_callback(lambda _: self.loop.stop())
