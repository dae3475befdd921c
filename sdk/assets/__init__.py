"""Assets: live views of OpenFactory assets and their attributes."""

from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute

__all__ = ["Asset", "AssetAttribute"]
