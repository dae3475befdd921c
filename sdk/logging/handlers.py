"""``ConsoleHandler``: a stream handler writing to the current ``sys.stdout`` or ``sys.stderr``."""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

ConsoleStream = Literal["stdout", "stderr"]


class ConsoleHandler(logging.StreamHandler[TextIO]):
    """Writes to the current ``sys.stdout`` or ``sys.stderr``, looked up at every record.

    A plain ``StreamHandler`` keeps the stream it was built with, so a logger configured once
    per process would keep writing into a stream that was replaced since (pytest's ``capsys``,
    a redirected console). Raises ``ValueError`` for another stream name.
    """

    def __init__(self, stream: ConsoleStream = "stderr", level: int = logging.NOTSET) -> None:
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"console stream must be 'stdout' or 'stderr', got {stream!r}")
        logging.Handler.__init__(self, level)
        self.stream_name: ConsoleStream = stream
        self._fixed: TextIO | None = None

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        """The stream a record is written to now."""
        if self._fixed is not None:
            return self._fixed
        return sys.stdout if self.stream_name == "stdout" else sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        # setStream() pins a stream explicitly, as on any StreamHandler.
        self._fixed = value

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} sys.{self.stream_name} ({logging.getLevelName(self.level)})>"
        )
