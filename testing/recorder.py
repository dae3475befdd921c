"""``Recorder``: everything apps published on a fake broker, and what became of their commands.

Queries read like the domain (``values("status")``, ``last("avail")``,
``commands_for("move_axis")``); failed assertions print the timeline of what did happen.
Under pytest the assertions hide their own frames (``__tracebackhide__``), so a failure points
at the test's line, not at this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from openfactory.apps.dispatch import CommandOutcome
from openfactory.testing.memory.broker import FakeBroker
from openfactory.transport import Record
from openfactory.transport.wire import COMMAND_SUFFIX

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class PublishedAttribute:
    """One asset record as published: asset, attribute id, value, type, tag, timestamp, order."""

    asset: str
    id: str
    value: Any
    type: str
    tag: str
    timestamp: str
    order: int
    topic: str

    def __repr__(self) -> str:
        return f"{self.asset}.{self.id}={self.value!r} ({self.type}, {self.tag}) @{self.timestamp}"


class RecorderAssertionError(AssertionError):
    """A recorder assertion failed; the message ends with the timeline of what was published."""


class _ErrorLog(logging.Handler):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(logging.ERROR)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        with self.recorder._lock:
            self.recorder.errors.append(record.getMessage())


class Recorder:
    """Records every record on ``broker`` from now on, and watched apps' command outcomes."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.records: list[Record] = []
        self.outcomes: list[CommandOutcome] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._attributes: list[PublishedAttribute] = []
        self._read = 0  # records[:_read] are decoded into _attributes
        self._handlers: list[tuple[logging.Logger, logging.Handler]] = []
        self._remove = broker.add_listener(self._on_record)

    # feeding ----------------------------------------------------------------------------
    def _on_record(self, record: Record) -> None:
        # Only kept: decoded when a query asks (most app tests assert on a few values, or on
        # command outcomes only, and decoding every record was a fifth of an app test).
        with self._lock:
            self.records.append(record)

    @property
    def attributes(self) -> list[PublishedAttribute]:
        """Every asset record recorded so far, decoded, in publish order."""
        with self._lock:
            return self._decode_new()

    def _decode_new(self) -> list[PublishedAttribute]:
        records, attributes = self.records, self._attributes
        for order in range(self._read, len(records)):
            record = records[order]
            try:
                value = record.json()
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("ID"), str):
                attributes.append(
                    PublishedAttribute(
                        record.key or "",
                        value["ID"],
                        value.get("VALUE"),
                        value.get("TYPE", ""),
                        value.get("TAG", ""),
                        (value.get("attributes") or {}).get("timestamp", ""),
                        order,
                        record.topic,
                    )
                )
        self._read = len(records)
        return attributes

    def watch(self, app: Any) -> None:
        """Also record ``app``'s command outcomes and the errors it logs."""
        app.add_command_observer(self._on_outcome)
        handler = _ErrorLog(self)
        app.logger.addHandler(handler)
        self._handlers.append((app.logger, handler))

    def _on_outcome(self, outcome: CommandOutcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def close(self) -> None:
        """Stop recording (idempotent)."""
        self._remove()
        for logger, handler in self._handlers:
            logger.removeHandler(handler)
        self._handlers.clear()

    # queries ----------------------------------------------------------------------------
    def published(
        self,
        id: str | None = None,
        *,
        type: str | None = None,
        tag: str | None = None,
        asset: str | None = None,
    ) -> list[PublishedAttribute]:
        """Published attributes matching every given filter, in publish order."""
        with self._lock:
            found = list(self._decode_new())
        return [
            a
            for a in found
            if (id is None or a.id == id)
            and (type is None or a.type == type)
            and (tag is None or a.tag == tag)
            and (asset is None or a.asset == asset)
        ]

    def values(self, id: str, asset: str | None = None) -> list[Any]:
        """Every value published for attribute ``id``, in order."""
        return [a.value for a in self.published(id, asset=asset)]

    def last(self, id: str, asset: str | None = None) -> PublishedAttribute:
        """The latest record of attribute ``id``; ``RecorderAssertionError`` if there is none."""
        __tracebackhide__ = True
        found = self.published(id, asset=asset)
        if not found:
            self._fail(f"attribute {id!r} was never published")
        return found[-1]

    def commands_for(self, method: str) -> list[PublishedAttribute]:
        """The ``<method>_CMD`` records sent to any asset."""
        return self.published(method + COMMAND_SUFFIX)

    def executed(self, method: str | None = None) -> list[CommandOutcome]:
        """Outcomes of commands whose method ran without raising."""
        return self._outcomes("executed", method)

    def failed(self, method: str | None = None) -> list[CommandOutcome]:
        """Outcomes of commands whose method raised."""
        return self._outcomes("failed", method)

    def rejected(self, method: str | None = None) -> list[CommandOutcome]:
        """Outcomes of commands refused before the method ran (bad envelope or arguments)."""
        return self._outcomes("rejected", method)

    def on_topic(self, topic: str, key: str | None = None) -> list[Record]:
        """Raw records seen on ``topic`` (only ``key``'s if given)."""
        with self._lock:
            return [r for r in self.records if r.topic == topic and key in (None, r.key)]

    def _outcomes(self, status: str, method: str | None) -> list[CommandOutcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status == status and method in (None, o.method)]

    # assertions -------------------------------------------------------------------------
    def assert_published(self, id: str, value: Any = _UNSET, **filters: str) -> None:
        """Fail unless attribute ``id`` was published (with ``value``, if given)."""
        __tracebackhide__ = True
        found = self.published(id, **filters)
        if not found or (value is not _UNSET and value not in [a.value for a in found]):
            wanted = id if value is _UNSET else f"{id}={value!r}"
            self._fail(f"expected {wanted} to be published")

    def assert_last(self, id: str, value: Any, asset: str | None = None) -> None:
        """Fail unless the latest value of attribute ``id`` is ``value``."""
        __tracebackhide__ = True
        latest = self.last(id, asset)
        if latest.value != value:
            self._fail(f"expected the last {id} to be {value!r}, it is {latest.value!r}")

    def assert_executed(self, method: str, **arguments: Any) -> CommandOutcome:
        """Fail unless ``method`` ran with these converted arguments (a subset); return it."""
        __tracebackhide__ = True
        for outcome in self.executed(method):
            if all(outcome.converted.get(k, _UNSET) == v for k, v in arguments.items()):
                return outcome
        self._fail(f"expected {method}({_call(arguments)}) to be executed")

    def assert_no_errors(self) -> None:
        """Fail if a watched app logged an error or a command failed or was rejected."""
        __tracebackhide__ = True
        if self.errors:
            self._fail("errors were logged:\n  " + "\n  ".join(self.errors))

    def timeline(self) -> str:
        """What was published and what became of commands, one line each, in order."""
        lines = [f"  #{a.order:<4} {a!r}" for a in self.published()]
        lines += [
            f"  command {o.method}: {o.status}"
            + (f" {_call(o.converted)}" if o.converted else "")
            + (f" -> {o.error}" if o.error else "")
            for o in list(self.outcomes)
        ]
        return "\n".join(lines) or "  (nothing was published)"

    def _fail(self, message: str) -> NoReturn:
        __tracebackhide__ = True
        raise RecorderAssertionError(f"{message}\nwhat was published:\n{self.timeline()}")

    def __repr__(self) -> str:
        return f"Recorder({len(self.attributes)} attributes, {len(self.outcomes)} commands)"

    @classmethod
    @contextmanager
    def on(cls, broker: FakeBroker) -> Iterator[Recorder]:
        """``with Recorder.on(broker) as recorder:`` records for the block's duration."""
        recorder = cls(broker)
        try:
            yield recorder
        finally:
            recorder.close()


def _call(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in arguments.items())
