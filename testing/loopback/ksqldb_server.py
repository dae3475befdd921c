"""A fake ksqlDB served over HTTP on loopback, so the real ``KSQLDBClient`` can be tested.

HTTP/1.1 and cleartext HTTP/2 (prior knowledge) are served on the same port by hypercorn, in a
background thread; the answers come from a ``FakeKSQLDB``. Run it alone with
``python -m openfactory.testing.loopback.ksqldb_server [--port N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import threading

try:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
except ModuleNotFoundError as err:  # the server is part of the ``testing`` extra
    raise ModuleNotFoundError(
        f"the fake ksqlDB server needs {err.name!r}, which is not installed: "
        "install it with `pip install 'openfactory-app-sdk[testing]'`",
        name=err.name,
    ) from err

from openfactory._threads import start_background_thread
from openfactory.errors import ConfigurationError
from openfactory.testing.loopback._http_app import KSQLDBApp, ServedRequest
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.memory.ksqldb import FakeKSQLDB

__all__ = ["FakeKSQLDBServer", "ServedRequest", "main"]

logger = logging.getLogger("openfactory.testing.loopback.ksqldb_server")

_STARTUP_TIMEOUT = 10.0
_GRACE = 0.5  # seconds hypercorn lets open connections finish on stop


class FakeKSQLDBServer(Rig):
    """Serves ``ksqldb`` (a fresh ``FakeKSQLDB`` if ``None``) over HTTP/1.1 and h2c on ``host``.

    ``port=0`` picks a free port; read the address from ``url``. Raises ``ConfigurationError``
    on a bad ksqldb, host or port; ``start()`` raises ``OSError`` if the port cannot be bound.
    """

    def __init__(
        self, ksqldb: FakeKSQLDB | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if not isinstance(host, str) or not host:
            raise ConfigurationError(f"host must be a non-empty string, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be an int in 0..65535 (0: any free), got {port!r}")
        served = ("info", "statement_query", "pull_query", "insert_into_stream")
        if ksqldb is not None and not all(callable(getattr(ksqldb, m, None)) for m in served):
            raise ConfigurationError(
                f"ksqldb must be a FakeKSQLDB (or offer {', '.join(served)}), got {ksqldb!r}"
            )
        self.ksqldb = ksqldb if ksqldb is not None else FakeKSQLDB()
        self.host = host
        self.port = port
        self._app = KSQLDBApp(self.ksqldb, on_ready=self._ready_set)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: asyncio.Event | None = None
        self._bound_port: int | None = None
        self._last_port: int | None = None  # where a stopped server ran, for restart()

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:54321``; raises ``RuntimeError``
        when it is not running."""
        if self._bound_port is None:
            raise RuntimeError("FakeKSQLDBServer is not running: call start() or use `with`")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    @property
    def requests(self) -> list[ServedRequest]:
        """Every request answered so far, in order (method, path, HTTP version, status)."""
        return list(self._app.requests)

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> FakeKSQLDBServer:
        """Bind, start serving and return once ready; no-op if running. Raises ``OSError`` or
        ``RuntimeError`` when the server cannot start."""
        return self._start_on(self.port)

    def restart(self, timeout: float = 5.0) -> FakeKSQLDBServer:
        """Stop serving, then serve again on the same port, so clients keep their URL (a ksqlDB
        server coming back). The tables are kept: they live in ``ksqldb``, not in the server.

        Raises ``RuntimeError`` if it never ran or does not stop within ``timeout`` seconds,
        ``OSError`` if the port cannot be bound again.
        """
        port = self._bound_port if self._bound_port is not None else self._last_port
        if port is None:
            raise RuntimeError("FakeKSQLDBServer.restart(): it never ran; call start() first")
        self.stop(timeout)
        if self._thread is not None:
            raise RuntimeError(f"FakeKSQLDBServer did not stop within {timeout}s: not restarted")
        return self._start_on(port)

    def _start_on(self, port: int) -> FakeKSQLDBServer:
        if self.running:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            # Listening before hypercorn takes over: a client connecting from now on is queued,
            # never refused.
            sock.listen(128)
            port = sock.getsockname()[1]
        except BaseException:
            sock.close()
            raise
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.graceful_timeout = _GRACE
        config.errorlog = logger
        config.accesslog = None
        self._ready.clear()
        self._failure = None
        self._thread = start_background_thread(
            self._run, args=(config,), name=f"fake-ksqldb-{port}"
        )
        if not self._ready.wait(_STARTUP_TIMEOUT) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"fake ksqlDB server did not start: {self._failure!r}")
        self._bound_port = port
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and join the server thread (at most ``timeout`` s). Idempotent.

        Clients are refused from then on; ``restart()`` serves again on the same port.
        """
        thread, loop, shutdown = self._thread, self._loop, self._shutdown
        if thread is None:
            return
        if loop is not None and shutdown is not None and not loop.is_closed():
            # RuntimeError: the loop closed in between, so the thread is ending anyway.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(shutdown.set)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("fake ksqlDB server thread did not stop within %.1fs", timeout)
            return
        self._thread = self._loop = self._shutdown = None
        self._last_port, self._bound_port = self._bound_port, None

    def __repr__(self) -> str:
        where = self.url if self._bound_port is not None else "stopped"
        return f"FakeKSQLDBServer({where})"

    def _ready_set(self) -> None:
        self._ready.set()

    def _run(self, config: Config) -> None:
        try:
            asyncio.run(self._serve(config))
        except BaseException as error:
            self._failure = error
            logger.exception("fake ksqlDB server stopped on an error")
        finally:
            self._ready.set()

    async def _serve(self, config: Config) -> None:
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        await serve(self._app, config, shutdown_trigger=self._shutdown.wait, mode="asgi")  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """Serve a fresh ``FakeKSQLDB`` (fed by ``--kafka`` if given) until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m openfactory.testing.loopback.ksqldb_server",
        description="Serve an in-memory fake ksqlDB (REST API, HTTP/1.1 and h2c) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--kafka",
        metavar="HOST:PORT",
        help="materialize the tables from this Kafka cluster instead of an in-memory broker",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        broker = None
        if args.kafka:
            from openfactory.testing.loopback.mirror import KafkaMirror

            broker = stack.enter_context(KafkaMirror(args.kafka)).broker
        server = stack.enter_context(
            FakeKSQLDBServer(FakeKSQLDB(broker), host=args.host, port=args.port)
        )
        print(server.url, flush=True)
        # Timed waits: the handler runs only when the main thread wakes, and a signal does
        # not always wake a thread blocked in an endless lock wait.
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
