"""The platform's asset router, served over HTTP on loopback.

``GET /asset/<asset_uuid>`` answers ``{"asset_id", "cluster_name", "nats_url"}`` (reference
section 9.5), naming one NATS server for every asset unless ``route`` says otherwise; ``route``
also makes it answer an HTTP error or a body without ``nats_url``, for the error paths.
"""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.memory.fanout import RouterAnswers


class LoopbackAssetRouter(Rig):
    """An asset router on ``127.0.0.1`` naming ``nats_url`` for every asset; ``url`` is what
    ``ASSET_ROUTER_URL`` should hold. Use as a context manager or ``start()``/``stop()``."""

    __test__ = False

    def __init__(self, nats_url: str, cluster_name: str = "loopback") -> None:
        """Raises ``ConfigurationError`` if ``nats_url`` is not a non-empty string."""
        if not isinstance(nats_url, str) or not nats_url:
            raise ConfigurationError(f"nats_url must be a non-empty string, got {nats_url!r}")
        self._answers = RouterAnswers(cluster_name, nats_url)
        #: Asset UUIDs asked about, in order.
        self.requests = self._answers.requests
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def nats_url(self) -> str:
        """The NATS server named for every asset not routed otherwise."""
        return self._answers.nats_url

    @property
    def cluster_name(self) -> str:
        """The cluster name every default answer gives."""
        return self._answers.cluster_name

    def route(
        self,
        asset_uuid: str,
        nats_url: str | None = None,
        *,
        status: int = 200,
        answer: Any = None,
    ) -> None:
        """Answer ``status`` and ``answer`` (any JSON; by default the usual answer naming
        ``nats_url``, else this router's server) about ``asset_uuid`` from now on."""
        self._answers.route(asset_uuid, nats_url, status=status, answer=answer)

    def answer(self, asset_uuid: str) -> tuple[int, bytes]:
        """``(HTTP status, body)`` answered about ``asset_uuid`` (and counted in ``requests``)."""
        return self._answers.answer(asset_uuid)

    def start(self) -> LoopbackAssetRouter:
        """Listen on a free loopback port and serve in a background thread (no-op if running).

        The socket listens when this returns: requests made at once wait in its backlog.
        """
        if self._server is not None:
            return self
        router = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if path.startswith("/asset/") and len(path) > len("/asset/"):
                    status, body = router.answer(urllib.parse.unquote(path[len("/asset/") :]))
                else:
                    status, body = 404, b'{"detail": "Not Found"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a test's output is not the place for access logs

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        # A short poll: stop() waits for serve_forever to notice, up to one interval.
        self._thread = start_background_thread(
            server.serve_forever, name="ofa-asset-router", args=(0.02,)
        )
        return self

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; raises ``RuntimeError`` when not running."""
        if self._server is None:
            raise RuntimeError("the loopback asset router is not running: call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def __repr__(self) -> str:
        return f"LoopbackAssetRouter({self.url if self._server else 'stopped'} -> {self.nats_url})"
