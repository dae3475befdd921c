"""The platform library's path of ``AssetUNS`` (``openfactory.assets.asset_uns_class``)."""

from openfactory.assets.asset_uns import AssetUNS

__all__ = ["AssetUNS"]
