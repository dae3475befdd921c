"""``openfactory.assets.utils.assetattribute``: the platform library's path of AssetAttribute."""

from openfactory.assets.attribute import AssetAttribute

__all__ = ["AssetAttribute"]
