"""The platform library's ``openfactory.assets.utils.nats_subscriber``: ``NATSSubscriber`` and
``AssetNATSCallback`` of the fan-out layer (needs the ``fanout`` extra to connect)."""

from openfactory.fanout.subscriber import AssetNATSCallback, NATSSubscriber

__all__ = ["AssetNATSCallback", "NATSSubscriber"]
