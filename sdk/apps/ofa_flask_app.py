"""``OpenFactoryFlaskApp``: an OpenFactory app serving a Flask application with werkzeug.

Needs the ``[flask]`` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from openfactory._threads import start_background_thread
from openfactory.apps.web import (
    STOP_TIMEOUT,
    OpenFactoryWebApp,
    listen_socket,
    missing_extra,
)

try:
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
except ImportError as err:
    raise missing_extra("OpenFactoryFlaskApp", "flask", err) from err

__all__ = ["OpenFactoryFlaskApp", "QuietWSGIRequestHandler"]

_VARIANT = "OpenFactoryFlaskApp"
_POLL_INTERVAL = 0.1  # how soon serve_forever notices a stop request


class QuietWSGIRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler without the access-log line per request (errors still log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing for a served request."""


class OpenFactoryFlaskApp(OpenFactoryWebApp):
    """An ``OpenFactoryApp`` whose ``self.app`` (a ``Flask``) is served by werkzeug on
    ``0.0.0.0:$PORT`` (default 4000), in thread ``FlaskThread``, beside ``async_main_loop()``.

    ``self.app`` comes from ``create_flask_app()``, is wrapped in werkzeug's ``ProxyFix``, knows
    the app as ``app.ofa_app`` (``current_app.ofa_app`` in a view) and gets its routes in
    ``configure_routes()``. ``run()`` is ``asyncio.run(self.async_run())``; overriding
    ``main_loop`` is refused at run time. The run ends when the loop returns or raises, the
    server fails, or SIGINT/SIGTERM arrives. Raises what ``OpenFactoryApp`` raises.
    """

    app: Flask
    _variant: str = "OpenFactoryFlaskApp"
    _loop_return_stops: bool = True

    def _build_web_app(self) -> None:
        """Build ``self.app`` (called by ``__init__`` before ``configure_routes()``)."""
        flask_app = self.create_flask_app()
        # Behind the platform's reverse proxy: trust its X-Forwarded-Prefix/Host/Proto.
        flask_app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            flask_app.wsgi_app, x_prefix=1, x_host=1, x_proto=1
        )
        root_path = os.getenv("OPENFACTORY_ROOT_PATH")
        if root_path and flask_app.config.get("APPLICATION_ROOT") == "/":
            flask_app.config["APPLICATION_ROOT"] = root_path
        flask_app.ofa_app = self  # type: ignore[attr-defined]
        self.app = flask_app

    def create_flask_app(self) -> Flask:
        """Hook building ``self.app``; by default ``Flask("openfactory.apps.ofa_flask_app")``."""
        return Flask("openfactory.apps.ofa_flask_app")

    def _open_server(self, host: str, port: int) -> _WerkzeugServer:
        handler = None if self.log_http_requests else QuietWSGIRequestHandler
        return _WerkzeugServer(self.app, host, port, handler)


class _WerkzeugServer:
    """werkzeug's threaded server on a socket bound by ``listen_socket``, serving in thread
    ``FlaskThread``."""

    def __init__(
        self, app: Flask, host: str, port: int, handler: type[WSGIRequestHandler] | None
    ) -> None:
        # werkzeug serves a duplicate of the descriptor; this one is closed once it is made.
        with listen_socket(host, port) as bound:
            self._server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=handler, fd=bound.fileno()
            )
        self.port: int = self._server.port
        loop = asyncio.get_running_loop()
        self._ended: asyncio.Future[None] = loop.create_future()

        def serve_forever() -> None:
            error: BaseException | None = None
            try:
                self._server.serve_forever(poll_interval=_POLL_INTERVAL)
            except BaseException as err:  # reported to the loop, which logs it
                error = err
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(self._end, error)

        # Started here, not in serve(): stop() may come before serve() first runs, and
        # shutdown() would wait forever for a serve_forever() that never started.
        self._thread = start_background_thread(serve_forever, name="FlaskThread")

    def _end(self, error: BaseException | None) -> None:
        if self._ended.done():
            return
        if error is None:
            self._ended.set_result(None)
        else:
            self._ended.set_exception(error)

    async def serve(self) -> None:
        await asyncio.shield(self._ended)

    async def stop(self, serving: asyncio.Future[None]) -> None:
        await asyncio.to_thread(self._server.shutdown)
        await asyncio.wait({serving, self._ended}, timeout=STOP_TIMEOUT)
        if self._ended.done():
            self._ended.exception()  # retrieved: serve() may have been cancelled before it was
