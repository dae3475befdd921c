"""SDK threads leave SIGINT/SIGTERM to the main thread, where Python runs signal handlers."""

from __future__ import annotations

import signal
import threading

from openfactory._threads import start_background_thread


def test_background_threads_block_the_stop_signals_and_the_caller_keeps_them() -> None:
    seen: list[set[signal.Signals]] = []
    thread = start_background_thread(
        lambda: seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])), name="probe"
    )
    thread.join(10)
    assert {signal.SIGINT, signal.SIGTERM} <= seen[0]
    assert thread.daemon and thread.name == "probe"
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_arguments_and_non_daemon_threads() -> None:
    got: list[int] = []
    thread = start_background_thread(got.append, name="worker", args=(7,), daemon=False)
    thread.join(10)
    assert got == [7] and not thread.daemon and not thread.is_alive()
    assert threading.current_thread() is threading.main_thread()
