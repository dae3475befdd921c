"""Exceptions raised by the SDK. Third-party errors are translated into these."""

from __future__ import annotations


class OpenFactoryError(Exception):
    """Base class of every error the SDK raises on purpose."""


class ConfigurationError(OpenFactoryError, ValueError):
    """A constructor argument or environment variable has a value the SDK cannot use."""


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


class CommandError(OpenFactoryError):
    """A command addressed to an app could not be executed (bad envelope, arguments or method)."""

    def __init__(self, method: str, message: str):
        self.method = method
        super().__init__(f"command for method {method!r} rejected: {message}")
