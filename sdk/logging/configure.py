"""``configure_logger``: a named ``OpenFactoryLogger`` with the backend's handlers."""

from __future__ import annotations

import logging
import os
import threading
import weakref

from openfactory.errors import ConfigurationError
from openfactory.logging.backends import LoggerBackend, backend_from_env
from openfactory.logging.loggers import OpenFactoryLogger, openfactory_logger

PROPAGATE_ENV = "OPENFACTORY_LOG_PROPAGATE"
"""Set to ``1`` to let app loggers also pass records to the root logger (the pytest plugin sets it
for each test, so ``caplog`` sees what an app logs); off by default, as on the platform."""

_LEVEL_NAMES = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")

_lock = threading.Lock()
# Handlers this module installed, with the (backend, prefix) they were made for: a later
# configuration replaces them, while handlers someone else attached are left alone.
_installed: weakref.WeakKeyDictionary[logging.Handler, tuple[LoggerBackend, str]] = (
    weakref.WeakKeyDictionary()
)


def parse_level(level: int | str) -> int:
    """A logging level from a number, a numeric string or a level name (any case).

    Raises ``ConfigurationError`` naming the value and the allowed names.
    """
    if isinstance(level, int) and not isinstance(level, bool) and level >= 0:
        return level
    if isinstance(level, str):
        text = level.strip()
        if text.isdigit():
            return int(text)
        known = logging.getLevelNamesMapping()
        if text.upper() in known:
            return known[text.upper()]
    raise ConfigurationError(
        f"loglevel {level!r} is not valid; use one of {_LEVEL_NAMES} or a non-negative number"
    )


def configure_logger(
    name: str,
    level: int | str = logging.INFO,
    prefix: str = "APP",
    *,
    backend: LoggerBackend | None = None,
) -> OpenFactoryLogger:
    """The logger ``name`` as an ``OpenFactoryLogger``: level set, ``propagate`` off (on when
    ``OPENFACTORY_LOG_PROPAGATE=1``), handlers
    of ``backend`` (default: the one ``OPENFACTORY_LOG_BACKEND`` names) with text lines
    prefixed ``[<prefix>]``.

    Handlers are added only when the logger has none, or only ones an earlier call installed
    (then they are replaced if the backend or prefix changed). The process-wide logger class
    is left unchanged. Raises ``ConfigurationError`` for a bad ``level``, an unknown backend
    or an unwritable log directory.
    """
    number = parse_level(level)
    chosen = backend_from_env() if backend is None else backend
    logger = openfactory_logger(name)
    _install(logger, chosen, prefix)
    if logger.level != number:
        # setLevel empties every logger's level cache, a cost that grows with the number of
        # loggers in the process: an app rebuilt with its level (every test) skips it.
        logger.setLevel(number)
    logger.propagate = os.environ.get(PROPAGATE_ENV, "").strip().lower() in ("1", "true", "yes")
    return logger


def _install(logger: logging.Logger, backend: LoggerBackend, prefix: str) -> None:
    signature = (backend, prefix)
    with _lock:
        ours = [handler for handler in logger.handlers if handler in _installed]
        if logger.handlers and not ours:
            return
        if ours and all(_installed.get(handler) == signature for handler in ours):
            return
        fresh = backend.handlers(logger.name, prefix)
        for handler in ours:
            logger.removeHandler(handler)
            handler.close()
        for handler in fresh:
            _installed[handler] = signature
            logger.addHandler(handler)
