"""The ``text`` log backend: prefixed lines on the standard error."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from openfactory.logging.formatters import PrefixFormatter
from openfactory.logging.handlers import ConsoleHandler


@dataclass(frozen=True)
class TextLoggerBackend:
    """``[<PREFIX>] (<time>) <LEVEL> <message>`` lines on ``sys.stderr``."""

    def handlers(self, logger_name: str, prefix: str) -> list[logging.Handler]:
        """One console handler on the standard error with the prefixed text format."""
        handler = ConsoleHandler("stderr")
        handler.setFormatter(PrefixFormatter(prefix))
        return [handler]
