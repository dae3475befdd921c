"""``OpenFactoryApp``: an asset with a main loop, methods callable over OpenFactory and a clean
shutdown, compatible with the documented OpenFactory API."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from types import FrameType
from typing import Any

from openfactory import _clock
from openfactory._version import OPENFACTORY_LICENSE, OPENFACTORY_MANUFACTURER, __version__
from openfactory.apps.declared import (
    EnvironmentAttribute,
    EventAttribute,
    OpenFactoryAppMeta,
    check_declared_types,
    published_fields,
)
from openfactory.apps.dispatch import PLACEHOLDER, CommandDispatcher, CommandObserver
from openfactory.apps.environment import (
    app_logger,
    app_uuid_from_env,
    shutdown_timeout_from_env,
)
from openfactory.apps.methods import MethodSpec, collect_methods
from openfactory.apps.shutdown import (
    AVAILABILITY_ID,
    Shutdown,
    ShutdownReport,
    availability,
    deregistration_topics,
)
from openfactory.apps.stopping import StopSignals, signal_name
from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute, command_method
from openfactory.errors import OFAException
from openfactory.monitoring import prometheus
from openfactory.storage import storage_from_env
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import COMMAND_SUFFIX, COMMAND_TAG, METHOD_TAG
from openfactory.utils.asset_producer import AssetProducer

_BANNER_WIDTH = 60
_LABEL_WIDTH = 29


# Scanning a class for @ofa_method costs more than building the app, and classes rarely change:
# what a scan finds is kept in the class's own namespace (not inherited: each class scans).
def _methods_of(cls: type) -> dict[str, MethodSpec]:
    methods: dict[str, MethodSpec] | None = cls.__dict__.get("_ofa_scanned_methods")
    if methods is None:
        methods = collect_methods(cls)
        type.__setattr__(cls, "_ofa_scanned_methods", methods)
    return methods


def _method_names(cls: type) -> frozenset[str]:
    """The names an app of class ``cls`` cannot assign: its methods' and their functions'.

    Asked on every assignment to an app (``app.counter = i``): one look-up in the class."""
    names: frozenset[str] | None = cls.__dict__.get("_ofa_method_names")
    if names is None:
        methods = _methods_of(cls).values()
        names = frozenset(s.name for s in methods) | frozenset(s.function_name for s in methods)
        type.__setattr__(cls, "_ofa_method_names", names)
    return names


class _StopRequested(BaseException):
    """Raised into the main loop by a signal; BaseException so ``except Exception`` can't eat it."""


class OpenFactoryApp(Asset, metaclass=OpenFactoryAppMeta):
    """Generic OpenFactory application: an ``Asset`` with metadata, logging and a lifecycle.

    Subclasses implement ``main_loop()`` (started by ``run()``) or ``async_main_loop()``
    (started by ``async_run()``). Built, an app publishes (reference section 9.2) each method's
    contract and its empty ``<method>_CMD`` placeholder, then its declared attributes: the
    standard ones below (``avail`` ``UNAVAILABLE`` first), then the subclasses'. Raises
    ``ConfigurationError`` (a ``ValueError``) at construction for a bad environment
    (``APP_UUID``/``SWARM_*``, ``STORAGE``, no broker configured) or a declared attribute of
    an invalid type.
    """

    avail = EventAttribute(value="UNAVAILABLE", tag="Availability")
    application_version = EnvironmentAttribute(
        "APPLICATION_VERSION", "latest", "Application.Version"
    )
    application_manufacturer = EnvironmentAttribute(
        "APPLICATION_MANUFACTURER", "OpenFactoryIO", "Application.Manufacturer"
    )
    application_license = EnvironmentAttribute(
        "APPLICATION_LICENSE", "BSD-3-Clause license", "Application.License"
    )
    openfactory_manufacturer = EventAttribute(
        value=OPENFACTORY_MANUFACTURER, tag="Library.Manufacturer"
    )
    openfactory_license = EventAttribute(value=OPENFACTORY_LICENSE, tag="Library.License")
    openfactory_version = EventAttribute(value=__version__, tag="Library.Version")

    def __init__(
        self,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None = None,
        asset_router_url: str | None = None,
        loglevel: str = "INFO",
        test_mode: bool = False,
        *,
        transport: Transport | None = None,
    ) -> None:
        uuid = app_uuid_from_env()
        if not test_mode:
            # The platform library reads neither in test mode (reference section 3.1).
            bootstrap_servers = bootstrap_servers or os.getenv("KAFKA_BROKER")
            asset_router_url = asset_router_url or os.getenv("ASSET_ROUTER_URL")
        # Public fields set before super().__init__ are plain attributes (see Asset).
        self.logger = app_logger(uuid, loglevel)
        self.storage = storage_from_env()
        self._methods = _methods_of(type(self))
        # Reentrant: app_event_loop_stopped() or a method may call shutdown() while it runs.
        self._stop_lock = threading.RLock()
        self._stopping = False  # set first thing by shutdown(), for signal handlers to see
        self._shutdown: Shutdown | None = None
        self._shutdown_report: ShutdownReport | None = None
        # Looked up at call time: a test harness may replace force_exit on the instance.
        self._signals = StopSignals(
            self.logger, shutdown_timeout_from_env(), lambda status: self.force_exit(status)
        )
        self._command_grace = 5.0  # how long close() lets received commands finish
        self._unavailable_read = threading.Event()  # the shutdown's UNAVAILABLE came back
        self._running_thread: int | None = None
        self._main_task: asyncio.Future[None] | None = None
        self._stop_reason: str | None = None
        self._dispatcher = CommandDispatcher(self, self._methods, self.logger)
        # Checked before anything is published: a bad type must not leave a half-registered app.
        declared = check_declared_types(type(self))
        super().__init__(
            uuid, ksqlClient, bootstrap_servers, asset_router_url, test_mode, transport=transport
        )
        # Kept for the shutdown, which must not depend on ksqlDB. Asked before the start-up
        # records: those stay the last thing construction does, as views built next expect.
        self._deregistration_topics = deregistration_topics(self.transport, self.logger)
        for spec in self._methods.values():
            self.add_attribute(
                spec.name, AssetAttribute(value=spec.contract_json(), type="Method", tag=METHOD_TAG)
            )
            # The platform's clients only send a command through an attribute they list.
            self.add_attribute(
                spec.name + COMMAND_SUFFIX,
                AssetAttribute(value=PLACEHOLDER, type="OpenFactory", tag=COMMAND_TAG),
            )
        for name, field in declared.items():
            self.add_attribute(name, field.initial())
        self._install_signal_handlers()

    def __setattr__(self, name: str, value: Any) -> None:
        cls = type(self)
        if name in _method_names(cls):
            raise OFAException(
                f"{name} is an Asset method. It can not be assigned. (an @ofa_method of "
                f"{cls.__name__}: give the value another name)"
            )
        field = published_fields(cls).get(name)
        if (
            field is not None
            and not isinstance(value, AssetAttribute)
            and "_state" in self.__dict__
        ):
            # What the field's __set__ does, without Asset.__setattr__ and the descriptor
            # protocol in between: every app.x = ... of a declared attribute comes here, and
            # those took a third of its cost (measured: SDK/bare publish rate 1.03 -> 1.23).
            self._publish_value(name, value, field.type, field.tag)
            return
        super().__setattr__(name, value)

    @functools.cached_property
    def producer(self) -> AssetProducer:
        """The platform library's producer of asset records, on this app's transport:
        ``producer.send_asset_attribute(uuid, AssetAttribute(id=..., ...))`` publishes and
        waits for the broker's acknowledgement."""
        return AssetProducer(self.ksql, self.bootstrap_servers, transport=self.transport)

    # the documented lifecycle -------------------------------------------------------------
    def welcome_banner(self) -> None:
        """Print the app's UUID, the application's and the library's metadata to stdout;
        override to customise."""

        def line(label: str, attribute_id: str) -> str:
            return f"{label:<{_LABEL_WIDTH}}{self._current_value(attribute_id)}"

        print(
            "\n".join(
                [
                    "=" * _BANNER_WIDTH,
                    f"OpenFactory App {self.asset_uuid}",
                    "-" * _BANNER_WIDTH,
                    line("Application version:", "application_version"),
                    line("Application manufacturer:", "application_manufacturer"),
                    line("Application license:", "application_license"),
                    "-" * _BANNER_WIDTH,
                    line("OpenFactory version:", "openfactory_version"),
                    line("OpenFactory manufacturer:", "openfactory_manufacturer"),
                    line("OpenFactory license:", "openfactory_license"),
                    "=" * _BANNER_WIDTH,
                ]
            ),
            flush=True,
        )

    def main_loop(self) -> None:
        """The app's work, run by ``run()``; raises ``NotImplementedError`` unless overridden."""
        raise NotImplementedError(
            f"Method 'main_loop' must be implemented: define main_loop() in "
            f"{type(self).__name__} to start it with run()"
        )

    async def async_main_loop(self) -> None:
        """The app's async work, awaited by ``async_run()``; ``NotImplementedError`` by default."""
        raise NotImplementedError(
            f"Method 'async_main_loop' must be implemented: define async_main_loop() in "
            f"{type(self).__name__} to start it with async_run()"
        )

    def app_event_loop_stopped(self) -> None:
        """Called once during shutdown, after deregistration; override to release resources."""

    def run(self) -> None:
        """Banner, ``avail=AVAILABLE``, ``main_loop()``; any end of the loop shuts the app down.

        An exception in the loop is logged, not raised; SIGINT/SIGTERM/SIGHUP stop the loop.
        Raises ``SystemExit(1)`` after a shutdown that lost records (``ShutdownReport.lost``),
        so that the process says so.
        """
        self._running_thread = threading.get_ident()
        try:
            self._start()
            self.logger.info("Starting main loop")
            self.main_loop()
        except _StopRequested:
            pass
        except Exception as err:
            self.logger.exception("main loop stopped by %s: %s", type(err).__name__, err)
        finally:
            self._running_thread = None
            report = self.shutdown()
        if report.exit_status:
            raise SystemExit(report.exit_status)

    async def async_run(self) -> None:
        """Like ``run()`` but awaits ``async_main_loop()``; signals cancel the loop's task.

        Raises ``SystemExit(1)`` after a shutdown that lost records, as ``run()`` does.
        """
        loop = asyncio.get_running_loop()
        self._dispatcher.loop = loop
        installed: list[int] = []
        try:
            self._start()
            self.logger.info("Starting async main loop")
            task = asyncio.ensure_future(self.async_main_loop())
            self._main_task = task
            installed = self._signals.install_on_loop(loop, self.signal_handler)
            await task
        except asyncio.CancelledError:
            if self._stop_reason is None:
                raise
        except Exception as err:
            self.logger.exception("async main loop stopped by %s: %s", type(err).__name__, err)
        finally:
            # The shutdown blocks the loop: signals meanwhile must reach signal_handler directly.
            self._signals.leave_loop(loop, installed, self.signal_handler)
            self._main_task = None
            report = self.shutdown()
            self._dispatcher.loop = None
        if report.exit_status:
            raise SystemExit(report.exit_status)

    def signal_handler(self, signum: int, frame: FrameType | None) -> None:
        """Handle SIGINT/SIGTERM/SIGHUP: stop the running loop and shut the app down.

        Outside ``run()``/``async_run()`` the app is shut down and ``SystemExit`` raised: status
        0, or 1 when the shutdown lost records (``ShutdownReport.exit_status``). A signal that
        comes while the app is stopping is logged and ignored; one more ends the process at
        once (``force_exit``, status 128 + the signal's number), as does a shutdown started by
        a signal that outlives its budget (``OPENFACTORY_SHUTDOWN_TIMEOUT``).
        """
        name = signal_name(signum)
        finished = self._shutdown_report
        if finished is not None:
            # Over already (the platform library's handler: shutdown() does nothing, then exit).
            self.logger.info("received %s after the shutdown", name)
            raise SystemExit(finished.exit_status)
        if self._stop_reason is not None or self._stopping:
            self._signals.repeated(signum)
            return
        self.logger.info("Received signal %s, stopping app gracefully ...", name)
        self._stop_reason = name
        self._signals.stopped_by(signum)  # the budget starts now, as the runtime's grace does
        task = self._main_task
        if task is not None and not task.done():
            # Run by the event loop, not in a signal's context: a thread may start here. The
            # watchdog bounds a main loop that swallows its cancellation as well.
            self._signals.watch()
            task.get_loop().call_soon_threadsafe(task.cancel)
            return
        if self._running_thread == threading.get_ident():
            raise _StopRequested(name)
        report = self.shutdown()
        raise SystemExit(report.exit_status)

    def shutdown(self) -> ShutdownReport:
        """Deregister, call ``app_event_loop_stopped()``, flush and close; runs once.

        The whole shutdown takes at most ``OPENFACTORY_SHUTDOWN_TIMEOUT`` seconds (default 8),
        counted from the stop signal if there was one. Returns the report of the first shutdown
        (what was done, what was lost); called again while it runs (from the app's hook, or a
        method), returns the report being filled in.
        """
        self._stopping = True
        with self._stop_lock:
            running = self._shutdown
            if running is not None:
                finished = self._shutdown_report
                return finished if finished is not None else running.report
            self._shutdown = Shutdown(
                self.transport,
                self.asset_uuid,
                self.logger,
                self.add_attribute,
                self.app_event_loop_stopped,
                self._close_within,
                self._deregistration_topics,
                self._unavailable_read.wait,
            )
            deadline = self._signals.shutdown_deadline()
            self._signals.watch()
            try:
                self._shutdown_report = self._shutdown.run(deadline)
            finally:
                self._signals.over()
                self._signals.restore(self.signal_handler)
            return self._shutdown_report

    def force_exit(self, status: int) -> None:
        """End the process now with exit ``status``, the shutdown unfinished (``os._exit``).

        Called on a third stop signal, or when a shutdown started by a signal outlives its
        budget; a test harness replaces it so that the test process lives on.
        """
        os._exit(status)

    @property
    def shutdown_report(self) -> ShutdownReport | None:
        """The report of the first shutdown, ``None`` while the app has not shut down."""
        return self._shutdown_report

    def close(self) -> None:
        """Finish the commands already received, then release the asset (idempotent)."""
        self._dispatcher.close(self._command_grace)
        super().close()

    def register_prometheus_metrics(
        self, metrics_port: int, metrics_path: str = "/metrics"
    ) -> None:
        """Register this app's metrics endpoint with the platform's Prometheus registry.

        Raises ``ConfigurationError`` ("No Prometheus Registry deployed") when the cluster has
        none; see ``openfactory.monitoring.register_prometheus_metrics``.
        """
        prometheus.register_prometheus_metrics(
            self.transport, self.asset_uuid, self.logger, metrics_port, metrics_path
        )

    def add_command_observer(self, observer: CommandObserver) -> None:
        """Call ``observer(CommandOutcome)`` after each command runs, fails or is rejected."""
        self._dispatcher.observers.append(observer)

    # internals --------------------------------------------------------------------------
    def _start(self) -> None:
        self.welcome_banner()
        self.add_attribute(AVAILABILITY_ID, availability("AVAILABLE"))

    def _current_value(self, attribute_id: str) -> Any:
        current = self._current(attribute_id)
        return current.value if current is not None else "UNAVAILABLE"

    def _on_attribute(self, attribute: AssetAttribute) -> None:
        if self._stopping and attribute.id == AVAILABILITY_ID and attribute.value == "UNAVAILABLE":
            self._unavailable_read.set()
        method = command_method(attribute)
        if method is not None:
            self._dispatcher.dispatch(
                method, attribute.value, inline=self.transport.inline_delivery
            )

    def _close_within(self, timeout: float) -> None:
        # Commands already received may finish in half of what is left; the transport's own
        # close (its flush) gets the rest.
        deadline = _clock.monotonic() + timeout
        self._dispatcher.close(timeout / 2)
        self._command_grace = 0.0  # closed just above: close() must not wait for it again
        self.transport.close_timeout = max(deadline - _clock.monotonic(), 0.0)
        self.close()

    def _install_signal_handlers(self) -> None:
        if not self._signals.install(self.signal_handler):
            self.logger.debug("not in the main thread: stop signal handlers not installed")
