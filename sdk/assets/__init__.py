"""Assets: live views of OpenFactory assets and their attributes.

``Asset`` (by asset UUID), ``AssetUNS`` (by UNS id), both ``BaseAsset``; ``AssetAttribute``
one attribute value. The platform library's module paths are here too: ``asset_class``,
``asset_uns_class``, ``asset_base`` and ``utils``.
"""

from openfactory.assets.asset import Asset
from openfactory.assets.asset_base import BaseAsset
from openfactory.assets.asset_uns import AssetUNS
from openfactory.assets.attribute import AssetAttribute

__all__ = ["Asset", "AssetAttribute", "AssetUNS", "BaseAsset"]
