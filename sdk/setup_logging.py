"""The platform library's 0.5.3 logging helpers (``openfactory.setup_logging``)."""

from __future__ import annotations

import logging

from openfactory.logging.configure import parse_level
from openfactory.logging.formatters import PrefixFormatter
from openfactory.logging.handlers import ConsoleHandler
from openfactory.logging.loggers import OpenFactoryLogger, openfactory_logger

PREFIXED_FORMAT = "%(levelname)s:%(name)s: %(message)s"
"""What follows ``[<PREFIX>] `` on a line of ``configure_prefixed_logger``'s handler."""

# Libraries whose INFO/DEBUG chatter drowns an app's own lines.
THIRD_PARTY_LOGGERS = ("httpx", "httpcore", "h2", "hpack", "hypercorn", "urllib3", "asyncio")


def configure_prefixed_logger(
    name: str, level: int | str = logging.INFO, prefix: str = "APP"
) -> OpenFactoryLogger:
    """The logger ``name`` with ``level``, ``propagate`` off and, if it has no handler yet, one
    on the standard error printing ``[<prefix>] LEVEL:name: message``.

    It is an ``OpenFactoryLogger`` (so ``with_context`` works too). Raises
    ``ConfigurationError`` for a bad ``level``.
    """
    number = parse_level(level)
    logger = openfactory_logger(name)
    logger.setLevel(number)
    if not logger.handlers:
        handler = ConsoleHandler("stderr")
        handler.setFormatter(PrefixFormatter(prefix, PREFIXED_FORMAT))
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def setup_third_party_loggers(level: int | str = logging.WARNING) -> None:
    """Raise the level of chatty libraries' loggers (``THIRD_PARTY_LOGGERS``) to ``level``.

    Raises ``ConfigurationError`` for a bad ``level``.
    """
    number = parse_level(level)
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(number)


__all__ = [
    "PREFIXED_FORMAT",
    "THIRD_PARTY_LOGGERS",
    "PrefixFormatter",
    "configure_prefixed_logger",
    "setup_third_party_loggers",
]
