"""Exceptions raised by the SDK. Third-party errors are translated into these.

The platform library's names (``openfactory.exceptions``, ``openfactory.kafka.ksql``) are the
same classes, so code written ``except OFAException:`` or ``except KSQLDBClientException:``
catches what this SDK raises:

- ``OFAException`` *is* ``OpenFactoryError`` (one class, two names): every error the SDK raises
  on purpose, misuse and missing configuration included.
- ``OFAConfigurationException`` is a ``ConfigurationError`` (so also an ``OFAException``).
- ``KSQLDBClientException`` *is* ``KSQLDBError``: what ``KSQLDBClient`` (and the fake ksqlDB)
  raise for every failure. A call the client refuses before sending anything raises
  ``KSQLDBArgumentError``, which is both a ``KSQLDBError`` and a ``ConfigurationError``.
"""

from __future__ import annotations


class OpenFactoryError(Exception):
    """Base class of every error the SDK raises on purpose."""


OFAException = OpenFactoryError
"""The platform library's name for ``OpenFactoryError`` (the same class)."""


class ConfigurationError(OpenFactoryError, ValueError):
    """A constructor argument or environment variable has a value the SDK cannot use."""


class OFAConfigurationException(ConfigurationError):
    """The fan-out layer's asset router cannot be reached: check ``ASSET_ROUTER_URL``."""


class DockerComposeException(OpenFactoryError):
    """A Docker Compose deployment failed (the platform's deployment tools; this SDK deploys
    nothing and never raises it: it exists so that code catching it imports)."""


class TransportError(OpenFactoryError):
    """The broker could not be reached or refused an operation."""


class DeliveryError(TransportError):
    """A record could not be delivered to the broker.

    ``topic``, ``key`` and ``attribute_id`` name the record; ``reason`` says why.
    """

    def __init__(self, reason: str, *, topic: str, key: str | None, attribute_id: str | None):
        self.reason = reason
        self.topic = topic
        self.key = key
        self.attribute_id = attribute_id
        super().__init__(
            f"record for asset {key!r} attribute {attribute_id!r} on topic {topic!r} "
            f"was not delivered: {reason}"
        )


class KSQLDBError(OpenFactoryError):
    """ksqlDB answered with an error (or could not be reached).

    ``error_code`` is ksqlDB's numeric code (e.g. 40001 for a statement error, 40002 for a
    bad pull query); ``message`` is ksqlDB's own text.
    """

    def __init__(self, message: str, error_code: int = 50000, status_code: int | None = None):
        self.message = message
        self.error_code = error_code
        self.status_code = status_code
        super().__init__(f"ksqlDB error {error_code}: {message}")


KSQLDBClientException = KSQLDBError
"""The platform library's name for ``KSQLDBError`` (the same class)."""


class KSQLDBArgumentError(KSQLDBError, ConfigurationError):
    """``KSQLDBClient`` refused an argument before sending anything (a bad URL, option, SQL text
    or stream name): a ``KSQLDBError`` (code 40000, like ksqlDB's bad request) and a
    ``ConfigurationError``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 40000)


class CommandError(OpenFactoryError):
    """A command addressed to an app could not be executed (bad envelope, arguments or method)."""

    def __init__(self, method: str, message: str):
        self.method = method
        super().__init__(f"command for method {method!r} rejected: {message}")
