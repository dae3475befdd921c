"""Formatters of the two log backends: prefixed text and one JSON object per record."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from openfactory.logging.loggers import RESERVED_RECORD_KEYS

TEXT_FORMAT = "(%(asctime)s) %(levelname)s %(message)s"
"""What follows ``[<PREFIX>] `` on a line of the text backend."""
TEXT_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class PrefixFormatter(logging.Formatter):
    """Formats like ``logging.Formatter`` and puts ``[<prefix>] `` before the result.

    ``fmt`` defaults to ``(%(asctime)s) %(levelname)s %(message)s``, ``datefmt`` to
    ``%Y-%m-%d %H:%M:%S``. Raises ``ValueError`` for an invalid ``fmt``, as ``logging`` does.
    """

    def __init__(
        self,
        prefix: str = "APP",
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
    ) -> None:
        super().__init__(
            TEXT_FORMAT if fmt is None else fmt,
            TEXT_DATE_FORMAT if datefmt is None else datefmt,
            style,
        )
        self.prefix = prefix

    def format(self, record: logging.LogRecord) -> str:
        """The record formatted, prefixed ``[<prefix>] ``."""
        return f"[{self.prefix}] {super().format(record)}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log collectors such as Loki.

    Keys: ``timestamp`` (UTC ISO 8601 with milliseconds), ``level``, ``logger``, ``message``,
    then every attribute the record got from a context or ``extra=`` (values that are not JSON
    are written as ``str()``; these four keys win over an extra of the same name), and
    ``exception`` (the formatted traceback) when the record has exception info.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII escaped, so any text is safe to write)."""
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in RESERVED_RECORD_KEYS and key not in payload:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, default=str)
