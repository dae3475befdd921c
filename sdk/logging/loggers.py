"""``OpenFactoryLogger`` and its adapter: a logger whose records can carry a fixed context.

The process-wide logger class is never changed (``logging.setLoggerClass``): an existing logger
of the wanted name gains ``with_context`` by becoming an ``OpenFactoryLogger`` in place, so
``logging.getLogger(name)`` keeps returning the very object the app holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any, cast

# Attributes every LogRecord has (plus the two the formatter adds): extras may not reuse them.
RESERVED_RECORD_KEYS = frozenset(
    {*logging.LogRecord("", logging.INFO, "", 0, "", None, None).__dict__, "message", "asctime"}
)


class OpenFactoryLogger(logging.Logger):
    """A ``logging.Logger`` that can hand out adapters adding context to every record."""

    def with_context(self, **context: Any) -> OpenFactoryLoggerAdapter:
        """An adapter logging through this logger with ``context`` set on every record.

        Raises ``ValueError`` when a key is an attribute every log record already has.
        """
        return OpenFactoryLoggerAdapter(self, context)


class OpenFactoryLoggerAdapter(logging.LoggerAdapter[logging.Logger]):
    """Logs through ``logger`` with the context ``extra`` as attributes of every record.

    A call's own ``extra=`` is merged in; on a clash the adapter's context wins. Raises
    ``ValueError`` at construction when a context key is a standard log record attribute.
    """

    extra: Mapping[str, object]

    def __init__(self, logger: logging.Logger, extra: Mapping[str, object] | None = None) -> None:
        context = dict(extra or {})
        clashes = sorted(RESERVED_RECORD_KEYS.intersection(context))
        if clashes:
            raise ValueError(
                f"log context keys {clashes} are attributes every log record already has; "
                "rename them (e.g. 'job_name' instead of 'name')"
            )
        super().__init__(logger, context)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Merge the call's ``extra`` with this adapter's context (the context wins)."""
        kwargs["extra"] = {**(kwargs.get("extra") or {}), **self.extra}
        return msg, kwargs

    def with_context(self, **context: Any) -> OpenFactoryLoggerAdapter:
        """A new adapter with this context updated by ``context`` (nested context).

        Raises ``ValueError`` as the constructor does.
        """
        return OpenFactoryLoggerAdapter(self.logger, {**self.extra, **context})


_lock = threading.Lock()
_mixed_classes: dict[type[logging.Logger], type[OpenFactoryLogger]] = {}


def openfactory_logger(name: str) -> OpenFactoryLogger:
    """``logging.getLogger(name)``, made an ``OpenFactoryLogger`` in place if it was not one.

    Raises ``TypeError`` when the existing logger's class cannot be extended that way.
    """
    logger = logging.getLogger(name)
    if isinstance(logger, OpenFactoryLogger):
        return logger
    with _lock:
        if not isinstance(logger, OpenFactoryLogger):
            try:
                logger.__class__ = _with_context_class(type(logger))
            except TypeError as exc:
                raise TypeError(
                    f"logger {name!r} is a {type(logger).__qualname__}, which cannot become an "
                    f"OpenFactoryLogger ({exc}); do not create it with a custom class"
                ) from None
    return cast(OpenFactoryLogger, logger)


def _with_context_class(cls: type[logging.Logger]) -> type[OpenFactoryLogger]:
    """``OpenFactoryLogger`` for a plain logger, else a subclass of both (made once)."""
    if cls is logging.Logger:
        return OpenFactoryLogger
    mixed = _mixed_classes.get(cls)
    if mixed is None:
        mixed = type(f"OpenFactory{cls.__name__}", (OpenFactoryLogger, cls), {})
        _mixed_classes[cls] = mixed
    return mixed
