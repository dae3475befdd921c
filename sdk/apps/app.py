"""``OpenFactoryApp``: an asset with a main loop, methods callable over OpenFactory and a clean
shutdown, compatible with the documented OpenFactory API."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import threading
import weakref
from types import FrameType
from typing import Any

from openfactory._version import OPENFACTORY_LICENSE, OPENFACTORY_MANUFACTURER, __version__
from openfactory.apps.declared import (
    EnvironmentAttribute,
    EventAttribute,
    OpenFactoryAppMeta,
    check_declared_types,
)
from openfactory.apps.dispatch import PLACEHOLDER, CommandDispatcher, CommandObserver
from openfactory.apps.environment import app_logger, app_uuid_from_env
from openfactory.apps.methods import MethodSpec, collect_methods
from openfactory.apps.shutdown import AVAILABILITY_ID, Shutdown, ShutdownReport, availability
from openfactory.assets.asset import Asset
from openfactory.assets.attribute import AssetAttribute, command_method
from openfactory.errors import OFAException
from openfactory.monitoring import prometheus
from openfactory.storage import storage_from_env
from openfactory.transport import KSQLDB, Transport
from openfactory.transport.wire import COMMAND_SUFFIX, COMMAND_TAG, METHOD_TAG
from openfactory.utils.asset_producer import AssetProducer

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Scanning a class for @ofa_method costs more than building the app; classes rarely change.
_METHODS_BY_CLASS: weakref.WeakKeyDictionary[type, dict[str, MethodSpec]] = (
    weakref.WeakKeyDictionary()
)
_METHOD_NAMES_BY_CLASS: weakref.WeakKeyDictionary[type, frozenset[str]] = (
    weakref.WeakKeyDictionary()
)
_BANNER_WIDTH = 60
_LABEL_WIDTH = 29


def _methods_of(cls: type) -> dict[str, MethodSpec]:
    methods = _METHODS_BY_CLASS.get(cls)
    if methods is None:
        methods = _METHODS_BY_CLASS[cls] = collect_methods(cls)
    return methods


def _method_names(cls: type) -> frozenset[str]:
    """The names an app of class ``cls`` cannot assign: its methods' and their functions'."""
    names = _METHOD_NAMES_BY_CLASS.get(cls)
    if names is None:
        methods = _methods_of(cls).values()
        names = frozenset(s.name for s in methods) | frozenset(s.function_name for s in methods)
        _METHOD_NAMES_BY_CLASS[cls] = names
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
        self._stop_lock = threading.Lock()
        self._shutdown_report: ShutdownReport | None = None
        self._running_thread: int | None = None
        self._main_task: asyncio.Future[None] | None = None
        self._stop_reason: str | None = None
        self._dispatcher = CommandDispatcher(self, self._methods, self.logger)
        # Checked before anything is published: a bad type must not leave a half-registered app.
        declared = check_declared_types(type(self))
        super().__init__(
            uuid, ksqlClient, bootstrap_servers, asset_router_url, test_mode, transport=transport
        )
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
        if name in _method_names(type(self)):
            raise OFAException(
                f"{name} is an Asset method. It can not be assigned. (an @ofa_method of "
                f"{type(self).__name__}: give the value another name)"
            )
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

        An exception in the loop is logged, not raised; SIGINT/SIGTERM stop the loop.
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
            self.shutdown()

    async def async_run(self) -> None:
        """Like ``run()`` but awaits ``async_main_loop()``; signals cancel the loop's task."""
        loop = asyncio.get_running_loop()
        self._dispatcher.loop = loop
        installed: list[int] = []
        try:
            self._start()
            self.logger.info("Starting async main loop")
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
        self.logger.info("Received signal %s, stopping app gracefully ...", name)
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

    def _current_value(self, attribute_id: str) -> Any:
        current = self._current(attribute_id)
        return current.value if current is not None else "UNAVAILABLE"

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
