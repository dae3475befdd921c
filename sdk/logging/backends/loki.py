"""The ``loki`` log backend: JSON lines on the standard output, text lines in a file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openfactory.errors import ConfigurationError
from openfactory.logging.formatters import JsonFormatter, PrefixFormatter
from openfactory.logging.handlers import ConsoleHandler

LOG_DIRECTORY_ENV = "OPENFACTORY_TEXT_LOG_DIRECTORY"


def log_directory_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """``OPENFACTORY_TEXT_LOG_DIRECTORY`` in ``environ`` (default ``os.environ``), else ``.``."""
    env = os.environ if environ is None else environ
    return Path(env.get(LOG_DIRECTORY_ENV, "").strip() or ".")


@dataclass(frozen=True)
class LokiLoggerBackend:
    """One JSON object per record on ``sys.stdout`` (where a container's log collector reads),
    and the text format in ``<log_directory>/<logger name>.log``.

    ``log_directory`` defaults to ``OPENFACTORY_TEXT_LOG_DIRECTORY``, else the working directory.
    """

    log_directory: Path = field(default_factory=log_directory_from_env)

    def handlers(self, logger_name: str, prefix: str) -> list[logging.Handler]:
        """The JSON console handler and the text file handler (directory created).

        Raises ``ConfigurationError`` when the logger name cannot be a file name or the
        file cannot be created.
        """
        if not logger_name or logger_name in (".", "..") or any(c in logger_name for c in "/\\\0"):
            raise ConfigurationError(
                f"logger name {logger_name!r} cannot name a log file in {self.log_directory}; "
                "use a name without '/', '\\' or NUL (an app's logger is named after APP_UUID)"
            )
        path = Path(self.log_directory) / f"{logger_name}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.FileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                f"{LOG_DIRECTORY_ENV}: cannot write the log file {str(path)!r}: "
                f"{exc.strerror or exc}; set it to a writable directory"
            ) from None
        file_handler.setFormatter(PrefixFormatter(prefix))
        console = ConsoleHandler("stdout")
        console.setFormatter(JsonFormatter())
        return [console, file_handler]
