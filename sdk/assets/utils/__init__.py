"""The platform library's ``openfactory.assets.utils``: ``AssetAttribute``, its timestamps,
``AsyncLoopThread`` and the NATS helpers of the fan-out layer, at the platform's module paths
(``assetattribute``, ``time_methods``, ``async_loop``, ``nats_subscriber``, ``get_nats_cluster``).
"""

from openfactory.assets.utils.assetattribute import AssetAttribute
from openfactory.assets.utils.async_loop import AsyncLoopThread
from openfactory.assets.utils.get_nats_cluster import get_nats_cluster_url
from openfactory.assets.utils.nats_subscriber import AssetNATSCallback, NATSSubscriber
from openfactory.assets.utils.time_methods import current_timestamp, openfactory_timestamp

__all__ = [
    "AssetAttribute",
    "AssetNATSCallback",
    "AsyncLoopThread",
    "NATSSubscriber",
    "current_timestamp",
    "get_nats_cluster_url",
    "openfactory_timestamp",
]
