"""Logging of apps: ``configure_logger``, ``OpenFactoryLogger.with_context`` and the ``text``
and ``loki`` backends chosen by ``OPENFACTORY_LOG_BACKEND``."""

from openfactory.logging.backends import (
    LOG_BACKEND_ENV,
    LOG_DIRECTORY_ENV,
    LoggerBackend,
    LokiLoggerBackend,
    TextLoggerBackend,
    backend_from_env,
)
from openfactory.logging.configure import configure_logger, parse_level
from openfactory.logging.formatters import JsonFormatter, PrefixFormatter
from openfactory.logging.handlers import ConsoleHandler
from openfactory.logging.loggers import (
    OpenFactoryLogger,
    OpenFactoryLoggerAdapter,
    openfactory_logger,
)

__all__ = [
    "LOG_BACKEND_ENV",
    "LOG_DIRECTORY_ENV",
    "ConsoleHandler",
    "JsonFormatter",
    "LoggerBackend",
    "LokiLoggerBackend",
    "OpenFactoryLogger",
    "OpenFactoryLoggerAdapter",
    "PrefixFormatter",
    "TextLoggerBackend",
    "backend_from_env",
    "configure_logger",
    "openfactory_logger",
    "parse_level",
]
