"""Turn ``<method>_CMD`` records addressed to an app into calls of its ``@ofa_method``s.

Nothing a caller sends can crash the app: a malformed envelope, an unknown method or
argument, a value that does not convert, or a method that raises is logged with the method
name and the offending value, reported to observers, and the app runs on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from openfactory.apps.methods import MethodSpec
from openfactory.commands import parse_envelope

Status = Literal["executed", "failed", "rejected"]


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What became of one command: ``executed``, ``failed`` (the method raised) or ``rejected``."""

    method: str
    status: Status
    correlation_id: str | None = None
    sender_uuid: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    converted: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: str | None = None


CommandObserver = Callable[[CommandOutcome], None]


class CommandDispatcher:
    """Validates command envelopes and runs the matching method of ``app``."""

    def __init__(self, app: Any, methods: dict[str, MethodSpec], logger: logging.Logger) -> None:
        self._app = app
        self._methods = methods
        self._logger = logger
        self.observers: list[CommandObserver] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    def dispatch(self, method: str, raw_envelope: Any) -> None:
        """Handle one command for ``method`` whose VALUE is ``raw_envelope``."""
        spec = self._methods.get(method)
        if spec is None:
            known = ", ".join(sorted(self._methods)) or "none"
            self._reject(f"unknown method {method!r} (this app has: {known})", method=method)
            return
        try:
            envelope = parse_envelope(raw_envelope)
        except ValueError as err:
            self._reject(f"malformed command envelope {raw_envelope!r}: {err}", method=method)
            return
        header = envelope.header
        context: dict[str, Any] = {
            "method": method,
            "correlation_id": str(header.correlation_id),
            "sender_uuid": header.sender_uuid,
            "arguments": dict(envelope.arguments),
        }
        try:
            converted = spec.converter.convert(envelope.arguments)
        except ValueError as err:
            self._reject(f"bad arguments {envelope.arguments!r}: {err}", **context)
            return
        self._logger.info(
            "running %s(%s) for %s", method, _call_text(converted), header.sender_uuid
        )
        bound = spec.function.__get__(self._app)
        if spec.is_async:
            self._run_async(spec, bound(**converted), converted, context)
            return
        try:
            result = bound(**converted)
        except Exception as err:
            self._failed(err, converted, context)
            return
        self._emit(CommandOutcome(status="executed", converted=converted, result=result, **context))

    def _run_async(
        self, spec: MethodSpec, coroutine: Any, converted: dict[str, Any], context: dict[str, Any]
    ) -> None:
        async def guarded() -> None:
            try:
                result = await coroutine
            except Exception as err:
                self._failed(err, converted, context)
                return
            self._emit(
                CommandOutcome(status="executed", converted=converted, result=result, **context)
            )

        loop = self.loop
        if loop is not None and loop.is_running():
            if _running_loop() is loop:
                loop.create_task(guarded())
            else:
                asyncio.run_coroutine_threadsafe(guarded(), loop)
        elif (current := _running_loop()) is not None:
            current.create_task(guarded())
        else:
            # No loop anywhere (a sync app, or a command arriving on a consumer thread).
            asyncio.run(guarded())

    def _failed(self, err: Exception, converted: dict[str, Any], context: dict[str, Any]) -> None:
        self._logger.error(
            "method %s(%s) raised %s: %s",
            context["method"],
            _call_text(converted),
            type(err).__name__,
            err,
            exc_info=err,
        )
        self._emit(CommandOutcome(status="failed", converted=converted, error=repr(err), **context))

    def _reject(self, message: str, **context: Any) -> None:
        self._logger.error("command for method %r rejected: %s", context["method"], message)
        self._emit(CommandOutcome(status="rejected", error=message, **context))

    def _emit(self, outcome: CommandOutcome) -> None:
        for observer in list(self.observers):
            try:
                observer(outcome)
            except Exception:
                self._logger.exception("command observer %r failed", observer)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _call_text(arguments: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments.items())
