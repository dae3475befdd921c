"""Background threads that leave the stop signals (SIGINT, SIGTERM, SIGHUP) to the main thread."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

_STOP_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def block_stop_signals() -> None:
    """Block SIGINT, SIGTERM and SIGHUP in the calling thread (a no-op where threads have no
    mask).

    Python runs signal handlers in the main thread, but the kernel may hand a signal sent
    to the process to any thread that does not block it, and then a main thread waiting
    on a lock is never woken to run the handler: an app blocked in its main loop would
    ignore SIGTERM. With the signals blocked here they can only land on the main thread.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def start_background_thread(
    target: Callable[..., Any], *, name: str, args: tuple[Any, ...] = (), daemon: bool = True
) -> threading.Thread:
    """Start a thread running ``target(*args)`` with the stop signals blocked in it."""

    def run() -> None:
        block_stop_signals()
        target(*args)

    thread = threading.Thread(target=run, name=name, daemon=daemon)
    thread.start()
    return thread
