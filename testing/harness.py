"""``AppHarness``: build an app on the in-memory broker, run it under the virtual clock, talk to
it as another asset would, and report how it ended.

``run()`` always runs under the virtual clock; ``build()`` and ``call()`` run under it only when
it is already running (``with harness.clock_running():`` or the ``ofa_clock`` fixture), because
starting freezegun costs milliseconds and most tests never need virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from openfactory.apps import CommandOutcome, OpenFactoryApp, ShutdownReport
from openfactory.apps.stopping import handler_of, set_handler
from openfactory.assets import Asset
from openfactory.assets.attribute import (
    command_call,
    command_record,
    no_such_method,
    validate_id,
)
from openfactory.backends import open_transport
from openfactory.errors import ConfigurationError
from openfactory.testing.clock import VirtualClock
from openfactory.testing.memory.ksqldb import FakeKSQLDB
from openfactory.testing.recorder import Recorder
from openfactory.testing.signals import Delivery, SignalSimulator
from openfactory.transport import Transport
from openfactory.transport.wire import ASSETS_STREAM

AppT = TypeVar("AppT", bound=OpenFactoryApp)
CALLER_UUID = "TEST-CALLER"


@dataclass
class RunResult:
    """How a run ended: exit code, signal delivered, turns and virtual time, shutdown report."""

    exit_code: int
    turns: int
    virtual_seconds: float
    shutdown: ShutdownReport | None
    signals: list[Delivery] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def records_flushed(self) -> bool:
        """True when shutdown delivered every record published before it."""
        return self.shutdown is not None and self.shutdown.undelivered == 0

    @property
    def clean(self) -> bool:
        """Exit code 0 and a clean shutdown."""
        return self.exit_code == 0 and self.shutdown is not None and self.shutdown.clean

    def __repr__(self) -> str:
        sent = ",".join(d.name for d in self.signals) or "no signal"
        steps = self.shutdown.steps if self.shutdown else "not shut down"
        return (
            f"RunResult(exit={self.exit_code}, {sent}, turns={self.turns}, "
            f"{self.virtual_seconds:g}s virtual, shutdown={steps})"
        )


class AppHarness:
    """One in-memory OpenFactory world for a test: broker, ksqlDB, recorder, clock, signals."""

    def __init__(
        self,
        ksqldb: FakeKSQLDB | None = None,
        storage_root: Path | None = None,
        clock_start: datetime | str | None = None,
    ) -> None:
        self.ksqldb = ksqldb if ksqldb is not None else FakeKSQLDB()
        self.broker = self.ksqldb.broker
        self.recorder = Recorder(self.broker)
        self.clock = VirtualClock(clock_start)
        self.signals = SignalSimulator(self.clock)
        self._storage_root = storage_root
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._handlers = {s: handler_of(s) for s in (signal.SIGINT, signal.SIGTERM)}
        self.apps: list[OpenFactoryApp] = []
        self._views: dict[str, Asset] = {}
        self._caller: Transport | None = None  # what call() publishes through

    # building ---------------------------------------------------------------------------
    def build(
        self,
        app_class: type[AppT],
        uuid: str = "TEST-APP",
        *,
        env: Mapping[str, str] | None = None,
        storage: bool = False,
        **kwargs: Any,
    ) -> AppT:
        """Build ``app_class`` on this harness's broker with ``APP_UUID=uuid`` and ``env``.

        ``storage=True`` gives it a local ``STORAGE`` in a temporary directory.
        """
        settings = {"APP_UUID": uuid, **(env or {})}
        if storage:
            root = self._storage_dir() / uuid
            settings["STORAGE"] = json.dumps(
                {"type": "local", "local_path": str(root), "mount_point": str(root)}
            )
        with _environment(settings):
            app = app_class(ksqlClient=self.ksqldb, **kwargs)
        self.recorder.watch(app)
        self.apps.append(app)
        return app

    # running ----------------------------------------------------------------------------
    def run(
        self,
        app: OpenFactoryApp,
        *,
        turns: int | None = None,
        at: float | None = None,
        signum: int = signal.SIGTERM,
    ) -> RunResult:
        """Run ``app`` (``run()``, or ``async_run()`` for an app with an async main loop) in this
        thread under the virtual clock; deliver ``signum`` after ``turns`` sleeps or at ``at``
        virtual seconds; return how it ended. Without either it runs until the loop ends."""
        if turns is not None and at is not None:
            raise ConfigurationError("give run() either turns= or at=, not both")
        with self.clock_running():
            start_turn, start = self.clock.turns, self.clock.elapsed
            already = len(self.signals.delivered)
            if turns is not None:
                self.signals.after_turns(app, turns, signum)
            elif at is not None:
                self.signals.at_time(app, start + at, signum)
            code, error = 0, None
            try:
                if _is_async(app):
                    asyncio.run(app.async_run())
                else:
                    app.run()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
                error = exit_
            finally:
                self.signals.cancel()
            return RunResult(
                code,
                self.clock.turns - start_turn,
                self.clock.elapsed - start,
                app.shutdown() if code == 0 else app.shutdown_report,
                self.signals.delivered[already:],
                error,
            )

    def stop(self, app: OpenFactoryApp, signum: int = signal.SIGTERM) -> RunResult:
        """Deliver ``signum`` to an app that is not running: it shuts down and 'exits'."""
        with self.clock_running():
            try:
                self.signals.send(app, signum)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 0
            else:
                code = 0
            return RunResult(code, 0, 0.0, app.shutdown(), self.signals.delivered[-1:])

    @contextlib.contextmanager
    def clock_running(self) -> Iterator[VirtualClock]:
        """Enter the virtual clock unless it is already running."""
        if self.clock.active:
            yield self.clock
            return
        with self.clock:
            yield self.clock

    # talking to apps --------------------------------------------------------------------
    def call(
        self, app: OpenFactoryApp, method: str, sender: str = CALLER_UUID, **arguments: Any
    ) -> CommandOutcome | None:
        """Invoke ``method`` on ``app`` as another asset would; return its outcome, if any yet.

        The record is the one ``Asset(uuid, ...).method(method, sender, arguments)`` publishes,
        and the same ``CommandError`` is raised for a method the app has not published or an
        argument that cannot be sent as a string; the app's own state says which methods it
        published (an ``Asset`` view would read them from ksqlDB: use ``view()`` for that).
        """
        validate_id("method", method)
        methods = app.methods()
        if method not in methods:
            raise no_such_method(app.asset_uuid, method, methods)
        payload, _ = command_call(method, sender, arguments)
        before = len(self.recorder.outcomes)
        self._publish_command(app, payload)
        new = self.recorder.outcomes[before:]
        return new[-1] if new else None

    def send_raw_command(self, app: OpenFactoryApp, method: str, value: Any) -> CommandOutcome:
        """Publish ``<method>_CMD`` with any VALUE (e.g. a bad envelope); return the outcome."""
        before = len(self.recorder.outcomes)
        self._publish_command(app, command_record(method, value))
        return self.recorder.outcomes[before]

    def _publish_command(self, app: OpenFactoryApp, payload: bytes) -> None:
        # Through a transport chosen as an Asset view's is (--ofa-fake-broker may put the apps
        # on another in-memory broker than this harness's), made once.
        caller = self._caller
        if caller is None:
            caller = self._caller = open_transport(self.ksqldb, None)
        caller.publish(caller.topic_for(ASSETS_STREAM), app.asset_uuid, payload)

    def view(self, uuid: str) -> Asset:
        """An ``Asset`` view of ``uuid``, reading state as another app would (one per UUID)."""
        view = self._views.get(uuid)
        if view is None:
            view = self._views[uuid] = Asset(uuid, self.ksqldb)
        return view

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a ksqlDB pull query on the fake ksqlDB."""
        return self.ksqldb.query(sql)

    def close(self) -> None:
        """Stop recording, restore signal handlers, remove temporary storage (idempotent)."""
        self.recorder.close()
        for view in self._views.values():
            view.close()
        self._views.clear()
        if self._caller is not None:
            self._caller.close()
            self._caller = None
        for signum, handler in self._handlers.items():
            set_handler(signum, handler)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _storage_dir(self) -> Path:
        if self._storage_root is not None:
            return self._storage_root
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ofa-storage-")
        return Path(self._tmp.name)

    def __enter__(self) -> AppHarness:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _is_async(app: OpenFactoryApp) -> bool:
    cls = type(app)
    return (
        cls.async_main_loop is not OpenFactoryApp.async_main_loop
        and cls.main_loop is OpenFactoryApp.main_loop
    )


@contextlib.contextmanager
def _environment(settings: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
