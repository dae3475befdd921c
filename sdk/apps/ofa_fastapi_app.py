"""``OpenFactoryFastAPIApp``: an OpenFactory app serving a FastAPI application with uvicorn.

Needs the ``[fastapi]`` extra (fastapi, uvicorn); ``expose_metrics`` also the ``[metrics]`` one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from openfactory.apps.web import (
    STOP_TIMEOUT,
    OpenFactoryWebApp,
    listen_port,
    listen_socket,
    missing_extra,
)
from openfactory.errors import ConfigurationError

try:
    import uvicorn
    from fastapi import FastAPI, Response
except ImportError as err:
    raise missing_extra("OpenFactoryFastAPIApp", "fastapi", err) from err

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["OpenFactoryFastAPIApp"]

_VARIANT = "OpenFactoryFastAPIApp"


class OpenFactoryFastAPIApp(OpenFactoryWebApp):
    """An ``OpenFactoryApp`` whose ``self.api`` (a ``FastAPI``) is served by uvicorn on
    ``0.0.0.0:$PORT`` (default 4000) beside ``async_main_loop()``.

    Add routes in ``configure_routes()`` (called at the end of ``__init__``). ``run()`` is
    ``asyncio.run(self.async_run())``; overriding ``main_loop`` is refused at run time. The run
    ends when the server or the loop raises, the server stops, or SIGINT/SIGTERM arrives; a loop
    that returns leaves the server serving. Raises what ``OpenFactoryApp`` raises.
    """

    api: FastAPI
    root_path: str
    """``OPENFACTORY_ROOT_PATH`` at construction: the URL prefix the platform serves the app
    under, given to uvicorn as its ``root_path`` (in-memory tests: ``ASGITransport(app.api,
    root_path=app.root_path)``)."""
    _variant: str = "OpenFactoryFastAPIApp"
    _loop_return_stops: bool = False

    def _build_web_app(self) -> None:
        """Build ``self.api`` (called by ``__init__`` before ``configure_routes()``)."""
        self._metrics_paths: set[str] = set()
        # FastAPI deprecated FastAPI(root_path=...): the prefix goes to the server (uvicorn)
        # instead, which gives requests and the OpenAPI "servers" the same root path.
        self.root_path = os.getenv("OPENFACTORY_ROOT_PATH", "")
        self.api = FastAPI(
            root_path_in_servers=True,
            version=str(self.application_version.value),
            title=self.asset_uuid,
            license_info={"name": str(self.application_license.value)},
        )

    def expose_metrics(
        self, path: str = "/metrics", registry: CollectorRegistry | None = None
    ) -> None:
        """Serve ``registry`` (default: prometheus_client's global one) at ``GET path`` in the
        Prometheus text format, and register the endpoint with the platform's Prometheus
        registry (the server's port: ``$PORT``, default 4000). The same path again does nothing.

        Raises ``ImportError`` without the ``[metrics]`` extra, ``ConfigurationError`` (a
        ``ValueError``) when another route already uses ``path``, and what
        ``register_prometheus_metrics`` raises (then no route is added).
        """
        try:
            import prometheus_client
        except ImportError as err:
            raise missing_extra("expose_metrics()", "metrics", err) from err
        if path in self._metrics_paths:
            return
        if any(getattr(route, "path", None) == path for route in self.api.routes):
            raise ConfigurationError(
                f"cannot expose metrics on {path!r}: the app already has a route there; "
                "pass another path, e.g. expose_metrics('/prometheus')"
            )
        chosen = prometheus_client.REGISTRY if registry is None else registry

        def metrics() -> Response:
            return Response(
                prometheus_client.generate_latest(chosen),
                media_type=prometheus_client.CONTENT_TYPE_LATEST,
            )

        self.api.add_api_route(path, metrics, methods=["GET"], name="metrics")
        route = self.api.router.routes[-1]
        try:
            self.register_prometheus_metrics(self.server_port or listen_port(), path)
        except BaseException:
            self.api.router.routes.remove(route)  # so that the call can be made again
            raise
        self._metrics_paths.add(path)

    def _open_server(self, host: str, port: int) -> _UvicornServer:
        level = logging.getLevelName(self.logger.getEffectiveLevel()).lower()
        return _UvicornServer(self.api, host, port, level, self.log_http_requests, self.root_path)


class _NoSignalCaptureServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The app owns SIGINT/SIGTERM (its handler stops the run): uvicorn must not take them
        # over, nor raise them again once it stopped.
        yield


class _UvicornServer:
    """uvicorn on a socket bound by ``listen_socket``."""

    def __init__(
        self, api: FastAPI, host: str, port: int, level: str, access_log: bool, root_path: str
    ) -> None:
        self._socket = listen_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            api,
            host=host,
            port=self.port,
            log_level=level,
            access_log=access_log,
            root_path=root_path,
        )
        self._server = _NoSignalCaptureServer(config)

    async def serve(self) -> None:
        try:
            await self._server.serve(sockets=[self._socket])
        except SystemExit as exit_:
            # uvicorn exits the process when its start-up (e.g. the app's lifespan) fails.
            raise RuntimeError(
                f"uvicorn failed to start (exit code {exit_.code}); see its log above"
            ) from None

    async def stop(self, serving: asyncio.Future[None]) -> None:
        self._server.should_exit = True
        try:
            _done, pending = await asyncio.wait({serving}, timeout=STOP_TIMEOUT)
            if pending:
                self._server.force_exit = True  # stop waiting for open connections
        finally:
            self._socket.close()
