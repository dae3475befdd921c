"""The platform library's ``openfactory.assets.utils.get_nats_cluster``: ``get_nats_cluster_url``
asks the asset router which NATS server serves an asset."""

from openfactory.fanout.router import get_nats_cluster_url

__all__ = ["get_nats_cluster_url"]
