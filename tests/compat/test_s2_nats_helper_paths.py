"""Reference section 2: the platform's NATS helpers at ``openfactory.assets.utils`` paths are the
fan-out layer's own (one implementation), and ``AsyncLoopThread`` runs coroutines."""

from __future__ import annotations

import openfactory.assets.utils as utils
from openfactory.assets.utils.async_loop import AsyncLoopThread
from openfactory.assets.utils.get_nats_cluster import get_nats_cluster_url
from openfactory.assets.utils.nats_subscriber import AssetNATSCallback, NATSSubscriber
from openfactory.fanout import AsyncLoopThread as FanOutLoop
from openfactory.fanout import NATSSubscriber as FanOutSubscriber


def test_the_helpers_are_the_fan_out_layers_own() -> None:
    assert AsyncLoopThread is FanOutLoop and NATSSubscriber is FanOutSubscriber
    assert utils.get_nats_cluster_url is get_nats_cluster_url
    assert utils.AssetNATSCallback is AssetNATSCallback


def test_async_loop_thread_runs_a_coroutine_and_stops() -> None:
    async def answer() -> int:
        return 42

    loop_thread = AsyncLoopThread()
    try:
        assert loop_thread.run_coro(answer()).result(timeout=5) == 42
    finally:
        loop_thread.stop()
    assert not loop_thread.thread.is_alive()
