"""What the web-app variants share: an HTTP server run beside the app's async main loop.

``OpenFactoryFastAPIApp`` (uvicorn) and ``OpenFactoryFlaskApp`` (werkzeug) each open a server
that is already listening when built; ``WebRunner`` runs it and ``async_main_loop()`` side by
side, under the app's own signal handling, and when either ends as its variant says, stops the
server, cancels the loop and shuts the app down.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from typing import Final, Protocol

from openfactory._version import DISTRIBUTION
from openfactory.apps.app import OpenFactoryApp
from openfactory.errors import ConfigurationError
from openfactory.transport import KSQLDB, Transport

DEFAULT_LISTEN_HOST: Final = "0.0.0.0"  # all interfaces: the platform routes to the container
DEFAULT_PORT: Final = 4000
STOP_TIMEOUT: Final = 10.0


class HTTPServer(Protocol):
    """A server bound and listening on ``port``; ``serve()`` answers requests until ``stop()``."""

    port: int

    async def serve(self) -> None:
        """Answer requests until stopped; raises if the server fails."""
        ...

    async def stop(self, serving: asyncio.Future[None]) -> None:
        """Stop serving, wait (bounded) for ``serving`` (the task of ``serve()``) to end and
        release the listening socket."""
        ...


def listen_port() -> int:
    """The port a web app listens on: env ``PORT``, default 4000.

    Raises ``ConfigurationError`` when ``PORT`` is not an integer in 0-65535.
    """
    text = (os.getenv("PORT") or str(DEFAULT_PORT)).strip()
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port < 65536:
        raise ConfigurationError(f"PORT must be a TCP port number (0-65535), got {text!r}")
    return port


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (``port`` 0: a free one).

    Bound here rather than by the server library so that a busy port fails at once with a
    clear ``ConfigurationError``, and ``PORT=0`` tells its port before the first request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as err:
        raise ConfigurationError(
            f"the HTTP server cannot listen on {host}:{port}: {err.strerror or err}; "
            "set PORT to a free port"
        ) from err


def missing_extra(what: str, extra: str, err: ImportError) -> ImportError:
    """The error for ``what`` (a class or method) used without the optional extra it needs."""
    return ImportError(
        f"{what} needs the optional dependencies of the [{extra}] extra "
        f"({err.name or err} is not installed): pip install '{DISTRIBUTION}[{extra}]'",
        name=err.name,
    )


def main_loop_refused(variant: str) -> RuntimeError:
    """The error a web app raises at run time when its class overrides ``main_loop``."""
    return RuntimeError(f"{variant} does NOT support 'main_loop'. Use 'async_main_loop' instead.")


class WebRunner:
    """Runs one web app's server and loop; owned by the app (``variant`` names its class).

    ``loop_return_stops``: whether a loop that returns normally ends the run (Flask) or leaves
    the server serving (FastAPI). Either side raising, the server stopping or a stop request
    (SIGINT/SIGTERM) always ends it.
    """

    def __init__(self, app: OpenFactoryApp, variant: str, *, loop_return_stops: bool) -> None:
        self._app = app
        self._variant = variant
        self._loop_return_stops = loop_return_stops
        self.port: int | None = None
        self.serving = asyncio.Event()

    async def run(self, open_server: Callable[[str, int], HTTPServer], host: str) -> None:
        """``async_run()`` of the web app: see the module docs. Errors are logged, not raised;
        a cancellation that is not a stop request is re-raised after the shutdown. Raises
        ``SystemExit(1)`` after a shutdown that lost records, as ``OpenFactoryApp.run()``."""
        app = self._app
        loop = asyncio.get_running_loop()
        app._dispatcher.loop = loop
        installed: list[int] = []
        server: HTTPServer | None = None
        tasks: list[asyncio.Future[None]] = []
        try:
            if type(app).main_loop is not OpenFactoryApp.main_loop:
                raise main_loop_refused(self._variant)
            app._start()
            server = open_server(host, listen_port())
            tasks = [asyncio.ensure_future(server.serve())]
            self.port = server.port
            app.logger.info("serving HTTP on http://%s:%d", host, server.port)
            tasks.append(asyncio.ensure_future(app.async_main_loop()))
            supervisor = asyncio.ensure_future(self._supervise(tasks[0], tasks[1]))
            # The app's signal handler cancels _main_task: a stop request ends the supervisor.
            app._main_task = supervisor
            installed = app._signals.install_on_loop(loop, app.signal_handler)
            self.serving.set()
            await supervisor
        except asyncio.CancelledError:
            if app._stop_reason is None:
                raise
        except Exception as err:
            app.logger.exception("%s stopped by %s: %s", self._variant, type(err).__name__, err)
        finally:
            # The shutdown blocks the loop: signals meanwhile must reach signal_handler directly.
            app._signals.leave_loop(loop, installed, app.signal_handler)
            app._main_task = None
            try:
                await self._stop(server, tasks)
            finally:
                self.serving.clear()
                self.port = None
                report = app.shutdown()
                app._dispatcher.loop = None
        if report.exit_status:
            raise SystemExit(report.exit_status)  # as run() does: the process says so

    async def _supervise(
        self, serving: asyncio.Future[None], looping: asyncio.Future[None]
    ) -> None:
        pending = {serving, looping}
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
            if serving in done:
                self._app.logger.info("the HTTP server stopped")
                return
            if looping.cancelled() or self._loop_return_stops:
                return

    async def _stop(self, server: HTTPServer | None, tasks: list[asyncio.Future[None]]) -> None:
        """Stop the server (its task is ``tasks[0]``), then cancel and reap every task."""
        if server is not None:
            try:
                await server.stop(tasks[0])
            except Exception:
                self._app.logger.exception("stopping the HTTP server failed")
        for task in tasks:
            task.cancel()
        # Reaps the tasks' outcomes (already logged by the supervisor) so none goes unretrieved.
        await asyncio.gather(*tasks, return_exceptions=True)


class OpenFactoryWebApp(OpenFactoryApp):
    """What ``OpenFactoryFastAPIApp`` and ``OpenFactoryFlaskApp`` share: the platform's web-app
    constructor, an HTTP server run beside ``async_main_loop()`` by ``async_run()``, and the
    hooks a variant fills in (``_build_web_app``, ``_open_server``). Raises what
    ``OpenFactoryApp`` raises."""

    log_http_requests: bool
    listen_host: str = DEFAULT_LISTEN_HOST
    """Interface the server binds; override (e.g. ``"127.0.0.1"``) to keep it on loopback."""
    _variant: str = "OpenFactoryWebApp"
    _loop_return_stops: bool = True

    def __init__(
        self,
        ksqlClient: KSQLDB,
        bootstrap_servers: str | None = None,
        asset_router_url: str | None = None,
        loglevel: str = "INFO",
        log_http_requests: bool = True,
        test_mode: bool = False,
        *,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(
            ksqlClient,
            bootstrap_servers,
            asset_router_url,
            loglevel,
            test_mode,
            transport=transport,
        )
        self.log_http_requests = log_http_requests
        self._web = WebRunner(self, self._variant, loop_return_stops=self._loop_return_stops)
        self._build_web_app()
        self.configure_routes()

    def _build_web_app(self) -> None:
        """Build the variant's web application (``self.api`` or ``self.app``)."""
        raise NotImplementedError

    def _open_server(self, host: str, port: int) -> HTTPServer:
        """A server of the variant bound to ``host:port``, serving the web application."""
        raise NotImplementedError

    def configure_routes(self) -> None:
        """Hook called at the end of ``__init__``: add routes to the web application here."""

    async def async_main_loop(self) -> None:
        """The app's work beside the server; by default it waits forever (the server works)."""
        await asyncio.Event().wait()

    def run(self) -> None:
        """``asyncio.run(self.async_run())``."""
        asyncio.run(self.async_run())

    async def async_run(self) -> None:
        """Banner, ``avail=AVAILABLE``, then the server and ``async_main_loop()`` side by side;
        at the end the server is stopped, the loop cancelled and the app shut down.

        Errors (a port already in use, a failing loop, an overridden ``main_loop``) are
        logged, not raised. Raises ``SystemExit(1)`` after a shutdown that lost records
        (``ShutdownReport.lost``), as ``OpenFactoryApp.run()`` does.
        """
        await self._web.run(self._open_server, self.listen_host)

    @property
    def server_port(self) -> int | None:
        """The port the server listens on while it runs (``PORT=0`` picks a free one)."""
        return self._web.port

    async def wait_until_serving(self, timeout: float = 10.0) -> int:
        """Wait until ``async_run()`` listens and return the port; ``TimeoutError`` after
        ``timeout`` seconds."""
        await asyncio.wait_for(self._web.serving.wait(), timeout)
        return self._web.port or 0
