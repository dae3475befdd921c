"""Helpers under the platform library's ``openfactory.utils`` path.

``openfactory.utils.assets`` (``register_asset``, ``deregister_asset``) registers and deregisters
assets on the wire as the platform's deployer and apps do; ``CaseInsensitiveDict`` is the mapping
of subscription payloads; ``deliver`` publishes records and waits for the broker's acks.
"""

from openfactory.utils.assets import deregister_asset, publish_deregistration, register_asset
from openfactory.utils.case_insensitive_dict import CaseInsensitiveDict
from openfactory.utils.delivery import OutgoingRecord, deliver

__all__ = [
    "CaseInsensitiveDict",
    "OutgoingRecord",
    "deliver",
    "deregister_asset",
    "publish_deregistration",
    "register_asset",
]
