"""The platform library's path of ``ofa_method`` (``openfactory.apps.decorators``)."""

from openfactory.apps.methods import ofa_method

__all__ = ["ofa_method"]
