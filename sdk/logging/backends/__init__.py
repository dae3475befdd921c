"""Log backends, chosen by ``OPENFACTORY_LOG_BACKEND``: ``text`` (default) or ``loki``."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Protocol

from openfactory.errors import ConfigurationError
from openfactory.logging.backends.loki import (
    LOG_DIRECTORY_ENV,
    LokiLoggerBackend,
    log_directory_from_env,
)
from openfactory.logging.backends.text import TextLoggerBackend

LOG_BACKEND_ENV = "OPENFACTORY_LOG_BACKEND"


class LoggerBackend(Protocol):
    """Makes the handlers a configured logger writes through."""

    def handlers(self, logger_name: str, prefix: str) -> list[logging.Handler]:
        """New handlers for logger ``logger_name`` whose text lines start ``[<prefix>]``."""
        ...


def backend_from_env(environ: Mapping[str, str] | None = None) -> LoggerBackend:
    """The backend ``OPENFACTORY_LOG_BACKEND`` names in ``environ`` (default ``os.environ``).

    Raises ``ConfigurationError`` for a name other than ``text`` or ``loki``.
    """
    env = os.environ if environ is None else environ
    raw = env.get(LOG_BACKEND_ENV, "")
    name = raw.strip().lower() or "text"
    if name == "text":
        return TextLoggerBackend()
    if name == "loki":
        return LokiLoggerBackend(log_directory_from_env(env))
    raise ConfigurationError(
        f"Unknown logging backend {raw!r}: {LOG_BACKEND_ENV} must be 'text' or 'loki' "
        "(unset means 'text')"
    )


__all__ = [
    "LOG_BACKEND_ENV",
    "LOG_DIRECTORY_ENV",
    "LoggerBackend",
    "LokiLoggerBackend",
    "TextLoggerBackend",
    "backend_from_env",
    "log_directory_from_env",
]
