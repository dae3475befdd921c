"""The platform library's path of ``OpenFactoryApp`` (``openfactory.apps.ofaapp``)."""

from openfactory.apps.app import OpenFactoryApp

__all__ = ["OpenFactoryApp"]
