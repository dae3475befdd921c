"""``AsyncLoopThread``: an asyncio event loop running in a daemon thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from openfactory._threads import start_background_thread

T = TypeVar("T")

# How long stop() waits for the loop's thread to end.
_JOIN_TIMEOUT = 5.0


class AsyncLoopThread:
    """Runs ``loop`` (a new asyncio event loop) forever in ``thread``, a daemon thread started at
    construction with SIGINT/SIGTERM blocked (they stay with the main thread).

    ``run_coro(coro)`` schedules a coroutine on it from any thread; ``stop()`` cancels what is
    pending, stops the loop and closes it.
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop = asyncio.new_event_loop()
        self._stopped = False
        self._lock = threading.Lock()
        self.thread: threading.Thread = start_background_thread(
            self._run, name="openfactory-async-loop"
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run_coro(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; its ``concurrent.futures.Future`` gives the result.

        Raises ``RuntimeError`` after ``stop()``.
        """
        if self._stopped:
            coro.close()  # never awaited: close it so Python does not warn about it
            raise RuntimeError("AsyncLoopThread is stopped: build a new one to run coroutines")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Cancel the pending tasks, stop the loop, wait for its thread and close the loop
        (idempotent; from the loop's own thread the loop is only asked to stop)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._cancel_and_stop)
        if threading.current_thread() is self.thread:
            return
        self.thread.join(_JOIN_TIMEOUT)
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
