"""The platform library's ``openfactory.assets.utils.async_loop``: ``AsyncLoopThread`` (an asyncio
loop run by a daemon thread), the one the fan-out layer uses."""

from openfactory.fanout.loop import AsyncLoopThread

__all__ = ["AsyncLoopThread"]
