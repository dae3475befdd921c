"""The platform library's ``openfactory.assets.utils``: ``AssetAttribute``, its timestamps and
``AsyncLoopThread``, at the platform's module paths (``assetattribute``, ``time_methods``,
``async_loop``).

The platform's NATS helpers (``nats_subscriber``: ``NATSSubscriber``, ``AssetNATSCallback``;
``get_nats_cluster``: ``get_nats_cluster_url``) belong to the fan-out transport and are not here.
"""

from openfactory.assets.utils.assetattribute import AssetAttribute
from openfactory.assets.utils.async_loop import AsyncLoopThread
from openfactory.assets.utils.time_methods import current_timestamp, openfactory_timestamp

__all__ = ["AssetAttribute", "AsyncLoopThread", "current_timestamp", "openfactory_timestamp"]
