"""``OpenFactoryApp``: an asset with a main loop, methods callable over OpenFactory and a clean
shutdown, compatible with the documented OpenFactory API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import weakref
from types import FrameType

from openfactory._version import OPENFACTORY_LICENSE, OPENFACTORY_MANUFACTURER, __version__
from openfactory.apps.declared import declared_attributes
from openfactory.apps.dispatch import CommandDispatcher, CommandObserver
from openfactory.apps.environment import app_logger, app_uuid_from_env
from openfactory.apps.methods import MethodSpec, collect_methods
from openfactory.apps.shutdown import AVAILABILITY_ID, Shutdown, ShutdownReport, availability
from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute, command_method
from openfactory.monitoring import prometheus
from openfactory.storage import storage_from_env
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import METHOD_TAG

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Scanning a class for @ofa_method costs more than building the app; classes rarely change.
_METHODS_BY_CLASS: weakref.WeakKeyDictionary[type, dict[str, MethodSpec]] = (
    weakref.WeakKeyDictionary()
)


def _methods_of(cls: type) -> dict[str, MethodSpec]:
    methods = _METHODS_BY_CLASS.get(cls)
    if methods is None:
        methods = _METHODS_BY_CLASS[cls] = collect_methods(cls)
    return methods


class _StopRequested(BaseException):
    """Raised into the main loop by a signal; BaseException so ``except Exception`` can't eat it."""


class OpenFactoryApp(Asset):
    """Generic OpenFactory application: an ``Asset`` with metadata, logging and a lifecycle.

    Subclasses implement ``main_loop()`` (started by ``run()``) or ``async_main_loop()``
    (started by ``async_run()``). Raises ``ConfigurationError`` at construction for a bad
    environment (``APP_UUID``/``SWARM_*``, ``STORAGE``, no broker configured).
    """

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
        # Public fields set before super().__init__ are plain attributes (see Asset).
        self.logger = app_logger(uuid, loglevel)
        self.storage = storage_from_env()
        self._methods = _methods_of(type(self))
        self._stop_lock = threading.Lock()
        self._shutdown_report: ShutdownReport | None = None
        self._running_thread: int | None = None
        self._main_task: asyncio.Future[None] | None = None
        self._stop_reason: str | None = None
        self._dispatcher = CommandDispatcher(self, self._methods, self.logger)
        super().__init__(
            uuid,
            ksqlClient,
            bootstrap_servers or os.getenv("KAFKA_BROKER"),
            asset_router_url or os.getenv("ASSET_ROUTER_URL"),
            test_mode,
            transport=transport,
        )
        for attribute_id, attribute in self._standard_attributes().items():
            self.add_attribute(attribute_id, attribute)
        for name, declared in declared_attributes(type(self)).items():
            self.add_attribute(name, declared.initial())
        for spec in self._methods.values():
            self.add_attribute(
                spec.name, AssetAttribute(spec.contract_json(), "Method", METHOD_TAG)
            )
        self._install_signal_handlers()

    @staticmethod
    def _standard_attributes() -> dict[str, AssetAttribute]:
        def event(value: str, tag: str) -> AssetAttribute:
            return AssetAttribute(value, "Events", tag)

        return {
            "application_version": event(
                os.getenv("APPLICATION_VERSION", "latest"), "Application.Version"
            ),
            "application_manufacturer": event(
                os.getenv("APPLICATION_MANUFACTURER", "OpenFactoryIO"), "Application.Manufacturer"
            ),
            "application_license": event(
                os.getenv("APPLICATION_LICENSE", "BSD-3-Clause license"), "Application.License"
            ),
            "openfactory_manufacturer": event(OPENFACTORY_MANUFACTURER, "Library.Manufacturer"),
            "openfactory_license": event(OPENFACTORY_LICENSE, "Library.License"),
            "openfactory_version": event(__version__, "Library.Version"),
        }

    # the documented lifecycle -------------------------------------------------------------
    def welcome_banner(self) -> None:
        """Print a welcome banner to stdout; override to customise."""
        print(
            f"OpenFactory app {type(self).__name__} ({self.asset_uuid}) "
            f"- openfactory-app-sdk {__version__}",
            flush=True,
        )

    def main_loop(self) -> None:
        """The app's work, run by ``run()``; raises ``NotImplementedError`` unless overridden."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement main_loop() to be started with run()"
        )

    async def async_main_loop(self) -> None:
        """The app's async work, awaited by ``async_run()``; ``NotImplementedError`` by default."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement async_main_loop() to be started with async_run()"
        )

    def app_event_loop_stopped(self) -> None:
        """Called once during shutdown, after deregistration; override to release resources."""

    def run(self) -> None:
        """Banner, ``avail=AVAILABLE``, ``main_loop()``; any end of the loop shuts the app down.

        An exception in the loop is logged, not raised; SIGINT/SIGTERM stop the loop.
        """
        self._running_thread = threading.get_ident()
        try:
            self._start()
            self.main_loop()
        except _StopRequested:
            pass
        except Exception as err:
            self.logger.exception("main loop stopped by %s: %s", type(err).__name__, err)
        finally:
            self._running_thread = None
            self.shutdown()

    async def async_run(self) -> None:
        """Like ``run()`` but awaits ``async_main_loop()``; signals cancel the loop's task."""
        loop = asyncio.get_running_loop()
        self._dispatcher.loop = loop
        installed: list[int] = []
        try:
            self._start()
            task = asyncio.ensure_future(self.async_main_loop())
            self._main_task = task
            installed = self._install_loop_signal_handlers(loop)
            await task
        except asyncio.CancelledError:
            if self._stop_reason is None:
                raise
        except Exception as err:
            self.logger.exception("async main loop stopped by %s: %s", type(err).__name__, err)
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
            self._main_task = None
            self.shutdown()
            self._dispatcher.loop = None

    def signal_handler(self, signum: int, frame: FrameType | None) -> None:
        """Handle SIGINT/SIGTERM: stop the running loop and shut the app down.

        Outside ``run()``/``async_run()`` the app is shut down and ``SystemExit(0)`` raised.
        """
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        self.logger.info("received %s, stopping", name)
        self._stop_reason = name
        task = self._main_task
        if task is not None and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)
            return
        if self._running_thread == threading.get_ident():
            raise _StopRequested(name)
        self.shutdown()
        raise SystemExit(0)

    def shutdown(self) -> ShutdownReport:
        """Deregister, call ``app_event_loop_stopped()``, flush and close; runs once.

        Returns the report of the first shutdown (what was done, what stayed undelivered).
        """
        with self._stop_lock:
            report = self._shutdown_report
            if report is None:
                report = self._shutdown_report = Shutdown(
                    self.transport,
                    self.asset_uuid,
                    self.logger,
                    self.add_attribute,
                    self.app_event_loop_stopped,
                    self.close,
                ).run()
        return report

    @property
    def shutdown_report(self) -> ShutdownReport | None:
        """The report of the first shutdown, ``None`` while the app has not shut down."""
        return self._shutdown_report

    def close(self) -> None:
        """Finish the commands already received, then release the asset (idempotent)."""
        self._dispatcher.close()
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

    def _on_attribute(self, attribute: AssetAttribute) -> None:
        method = command_method(attribute)
        if method is not None:
            self._dispatcher.dispatch(
                method, attribute.value, inline=self.transport.inline_delivery
            )

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.logger.debug("not in the main thread: SIGINT/SIGTERM handlers not installed")
            return
        for signum in _SIGNALS:
            signal.signal(signum, self.signal_handler)

    def _install_loop_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> list[int]:
        if threading.current_thread() is not threading.main_thread():
            return []
        installed: list[int] = []
        for signum in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.signal_handler, signum, None)
                installed.append(signum)
        return installed
