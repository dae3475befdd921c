"""The platform library's exception names (``openfactory.exceptions``), on this SDK's hierarchy.

``OFAException`` is ``openfactory.errors.OpenFactoryError`` itself, so ``except OFAException:``
catches every error the SDK raises on purpose; ``OFAConfigurationException`` is a
``ConfigurationError``. See ``openfactory.errors`` for the whole hierarchy.
"""

from openfactory.errors import DockerComposeException, OFAConfigurationException, OFAException

__all__ = ["DockerComposeException", "OFAConfigurationException", "OFAException"]
