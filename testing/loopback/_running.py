"""Run a loopback rig from the command line until SIGINT/SIGTERM (the rigs' ``main()``)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import FrameType
from typing import TypeVar

Rig = TypeVar("Rig")


def run_until_signalled(
    rig: AbstractContextManager[Rig],
    ready_line: Callable[[Rig], str],
    failure: Callable[[Rig], str | None] = lambda _rig: None,
) -> int:
    """Enter ``rig``, print ``ready_line(rig)``, and wait for SIGINT/SIGTERM; returns the exit
    status: 0, or 1 as soon as ``failure(rig)`` names a reason (printed to stderr; checked
    twice a second)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    done = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, finish)
    signal.signal(signal.SIGTERM, finish)
    with rig as running:
        print(ready_line(running), flush=True)
        while not done.wait(0.5):
            reason = failure(running)
            if reason is not None:
                print(reason, file=sys.stderr, flush=True)
                return 1
    return 0
