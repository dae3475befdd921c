"""Helpers under the platform library's ``openfactory.utils`` path.

``openfactory.utils.assets`` (``register_asset``, ``deregister_asset``) registers and deregisters
assets on the wire as the platform's deployer and apps do; ``CaseInsensitiveDict`` is the mapping
of subscription payloads; ``AssetProducer`` publishes asset records (the platform library
offers both from ``openfactory.kafka``); ``deliver`` publishes records and waits for the acks.
"""

from openfactory.utils.asset_producer import AssetProducer
from openfactory.utils.assets import deregister_asset, publish_deregistration, register_asset
from openfactory.utils.case_insensitive_dict import CaseInsensitiveDict
from openfactory.utils.delivery import OutgoingRecord, deliver

__all__ = [
    "AssetProducer",
    "CaseInsensitiveDict",
    "OutgoingRecord",
    "deliver",
    "deregister_asset",
    "publish_deregistration",
    "register_asset",
]
