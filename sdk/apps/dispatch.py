"""Turn ``<method>_CMD`` records addressed to an app into calls of its ``@ofa_method``s.

Nothing a caller sends can crash the app: a malformed envelope, an unknown method, a missing
argument or a value that does not convert, or a method that raises (``SystemExit`` and
``CancelledError`` included) is logged at ERROR as ``Failed to execute <method> with
'<VALUE>': ...`` (the platform library's line), reported to observers, and the app runs on.
Arguments the method does not take are ignored with a WARNING, and the method runs. An empty
VALUE is no command: it is the placeholder every app publishes for each of its methods at
start (so that the platform's clients send commands through it), logged at DEBUG only.

Where methods run follows the transport (``Transport.inline_delivery``): in memory a command runs
inside the caller's publish, so a test sees it executed when the call returns; on Kafka the
record arrives on the topic's reader thread, which every subscription of the topic in the process
shares, so the command is handed to the app's own command thread. Either way an app's commands run
one at a time, in the order they arrived.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from openfactory._logtext import shown
from openfactory._threads import start_background_thread
from openfactory.apps.methods import MethodSpec
from openfactory.commands import parse_envelope
from openfactory.commands.arguments import unknown_text

Status = Literal["executed", "failed", "rejected"]
# The VALUE of the <method>_CMD placeholder an app publishes at start (DESIGN.md section 3).
PLACEHOLDER = ""


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
# What a method may raise without ending command intake; KeyboardInterrupt and the app's own
# stop request still propagate so a signal can stop a main loop that runs a command inline.
# On the app's command thread (no signal lands there) anything a method raises is a failure.
_METHOD_ERRORS: tuple[type[BaseException], ...] = (Exception, SystemExit, asyncio.CancelledError)
_THREAD_ERRORS: tuple[type[BaseException], ...] = (BaseException,)


class CommandDispatcher:
    """Validates command envelopes and runs the matching method of ``app``."""

    def __init__(self, app: Any, methods: dict[str, MethodSpec], logger: logging.Logger) -> None:
        self._app = app
        self._methods = methods
        self._logger = logger
        self.observers: list[CommandObserver] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._runner = SerialRunner(f"ofa-commands-{getattr(app, 'asset_uuid', '?')}", logger)

    def dispatch(self, method: str, raw_envelope: Any, *, inline: bool = True) -> None:
        """Handle one command for ``method`` whose VALUE is ``raw_envelope``: now (``inline``), or
        queued to the app's command thread, behind the commands that came before it."""
        if raw_envelope == PLACEHOLDER:
            self._logger.debug("%s_CMD placeholder (empty VALUE): no command", method)
            return
        if inline:
            self._execute(method, raw_envelope, _METHOD_ERRORS)
        else:
            self._runner.submit(lambda: self._execute(method, raw_envelope, _THREAD_ERRORS))

    def close(self, timeout: float = 5.0) -> bool:
        """Run the commands already queued (for at most ``timeout`` s) and stop the command
        thread; returns False if it was still busy when the time ran out."""
        return self._runner.close(timeout)

    def _execute(
        self, method: str, raw_envelope: Any, errors: tuple[type[BaseException], ...]
    ) -> None:
        spec = self._methods.get(method)
        if spec is None:
            known = ", ".join(sorted(self._methods)) or "none"
            self._reject(
                raw_envelope,
                f"unknown method {shown(method)} (this app has: {known})",
                method=method,
            )
            return
        try:
            envelope = parse_envelope(raw_envelope)
        except ValueError as err:
            self._reject(raw_envelope, f"malformed command envelope: {shown(err)}", method=method)
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
            self._reject(
                raw_envelope, f"bad arguments {shown(envelope.arguments)}: {shown(err)}", **context
            )
            return
        unknown = spec.converter.unknown(envelope.arguments)
        if unknown:
            self._logger.warning(
                "%s from %s: %s",
                method,
                shown(header.sender_uuid),
                shown(unknown_text(unknown, spec.converter.names), as_text=True),
            )
        self._logger.info(
            "running %s(%s) for %s", method, _call_text(converted), shown(header.sender_uuid)
        )
        bound = spec.function.__get__(self._app)
        if spec.is_async:
            self._run_async(spec, bound(**converted), raw_envelope, converted, context)
            return
        try:
            result = bound(**converted)
        except errors as err:
            self._failed(err, raw_envelope, converted, context)
            return
        self._emit(CommandOutcome(status="executed", converted=converted, result=result, **context))

    def _run_async(
        self,
        spec: MethodSpec,
        coroutine: Any,
        raw_envelope: Any,
        converted: dict[str, Any],
        context: dict[str, Any],
    ) -> None:
        async def guarded() -> None:
            try:
                result = await coroutine
            except _METHOD_ERRORS as err:
                self._failed(err, raw_envelope, converted, context)
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

    def _failed(
        self,
        err: BaseException,
        raw_envelope: Any,
        converted: dict[str, Any],
        context: dict[str, Any],
    ) -> None:
        self._logger.error(
            "Failed to execute %s with %s: %s: %s (called as %s(%s))",
            context["method"],
            _value_text(raw_envelope),
            type(err).__name__,
            shown(err),
            context["method"],
            _call_text(converted),
            exc_info=err,
        )
        error = f"{type(err).__name__}: {shown(err)}"
        self._emit(CommandOutcome(status="failed", converted=converted, error=error, **context))

    def _reject(self, raw_envelope: Any, message: str, **context: Any) -> None:
        self._logger.error(
            "Failed to execute %s with %s: command rejected: %s",
            shown(context["method"], as_text=True),
            _value_text(raw_envelope),
            message,
        )
        self._emit(CommandOutcome(status="rejected", error=message, **context))

    def _emit(self, outcome: CommandOutcome) -> None:
        for observer in list(self.observers):
            try:
                observer(outcome)
            except Exception:
                self._logger.exception("command observer %r failed", observer)


class SerialRunner:
    """Runs submitted calls one at a time, in order, on a thread of its own started at first use.

    A call that raises is logged and the thread goes on to the next one.
    """

    def __init__(self, name: str, logger: logging.Logger) -> None:
        self._name = name
        self._logger = logger
        self._queue: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, call: Callable[[], object]) -> None:
        """Queue ``call``; dropped with a warning once the runner is closed."""
        with self._lock:
            if self._closed:
                self._logger.warning("%s is closed: a call arrived after shutdown", self._name)
                return
            if self._thread is None:
                self._thread = start_background_thread(self._work, name=self._name)
            self._queue.put(call)

    def close(self, timeout: float) -> bool:
        """Let queued calls finish (at most ``timeout`` s) and end the thread; idempotent.

        Returns False if the thread was still busy at the deadline (it ends after that call).
        """
        with self._lock:
            self._closed = True
            thread = self._thread
            if thread is None:
                return True
            self._queue.put(None)
        if thread is threading.current_thread():
            return True  # a method shutting its own app down: the thread ends after it returns
        thread.join(timeout)
        return not thread.is_alive()

    def _work(self) -> None:
        while (call := self._queue.get()) is not None:
            try:
                call()
            except BaseException:  # nothing a call raises may end the thread
                self._logger.exception("%s: a queued call failed", self._name)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _value_text(value: Any) -> str:
    """The VALUE as the platform library logs it (``'<text>'``), cut short if huge."""
    return f"'{shown(value, as_text=True)}'"


def _call_text(arguments: dict[str, Any]) -> str:
    # Names come from the method's signature; only the values came with the command.
    return ", ".join(f"{name}={shown(value)}" for name, value in arguments.items())
