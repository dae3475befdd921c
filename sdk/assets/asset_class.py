"""The platform library's path of ``Asset`` (``openfactory.assets.asset_class``)."""

from openfactory.assets.asset import Asset

__all__ = ["Asset"]
