"""``ofa-dev``: run an OpenFactory app file on the embedded in-memory broker.

    ofa-dev run examples/demo_app.py --call "move_axis x=1 y=2 speed=50" --duration 5

The file runs unchanged (it may build a ``KSQLDBClient`` and read ``KAFKA_BROKER``): every app
and asset it creates is routed to the in-memory broker. What the app publishes is printed as it
happens; ``--call`` sends commands as another asset would; ``--duration`` ends the run with
SIGTERM. The exit code is 0 after a clean shutdown. ``--loopback`` runs the app on the production
transport instead, against librdkafka's mock Kafka cluster and the fake ksqlDB over HTTP.
``--fanout`` gives the app (and the ``--call`` sender) an asset router, so they follow assets
through the fan-out layer: in memory, the broker's own; with ``--loopback``, a real nats-server,
an asset router over HTTP and a forwarder from the Kafka cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import operator
import os
import runpy
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from openfactory._threads import start_background_thread
from openfactory.apps.environment import app_uuid_from_env
from openfactory.assets import Asset
from openfactory.backends import override_transport
from openfactory.errors import OpenFactoryError
from openfactory.testing.memory import (
    MEMORY_ROUTER_URL,
    FakeBroker,
    FakeKSQLDB,
    embedded_ksqldb,
    embedded_transport,
    reset_embedded,
)
from openfactory.transport import Record

CALLER_UUID = "ofa-dev"
DESCRIPTION = "Run an OpenFactory app file on the embedded in-memory broker."
RUN_DESCRIPTION = """\
Run the app file unchanged: every app and asset it builds (even with a KSQLDBClient and
KAFKA_BROKER) runs on a fresh in-memory broker, or with --loopback on the production
transport against a Kafka cluster and ksqlDB on loopback. Every record the app publishes
is printed as it happens. Exit code 0 after a clean shutdown."""
RUN_EXAMPLE = """\
example:
  ofa-dev run examples/demo_app.py --call "move_axis x=1 y=2 speed=50" --duration 5"""
METHOD_WAIT = 10.0
_STOP_CHECK = 0.1  # how often a --call waiting for its method looks whether the run ended


@dataclass(frozen=True)
class Call:
    """A ``--call`` option: the method to invoke, its arguments and when."""

    method: str
    arguments: dict[str, str]
    delay: float

    @classmethod
    def parse(cls, text: str, delay: float) -> Call:
        """Parse ``"move_axis x=1 y=2"``; raises ``ValueError`` naming the bad word."""
        words = shlex.split(text)
        if not words:
            raise ValueError("--call needs a method name, e.g. --call 'move_axis x=1 y=2'")
        arguments = {}
        for word in words[1:]:
            name, equals, value = word.partition("=")
            if not equals or not name:
                raise ValueError(f"--call argument {word!r} is not name=value")
            arguments[name] = value
        return cls(words[0], arguments, delay)


def format_record(record: Record) -> str:
    """One printed line for a record the app published."""
    if record.value is None:
        return f"{record.topic:<28} {record.key}  <tombstone>"
    try:
        value = record.json()
    except ValueError:
        return f"{record.topic:<28} {record.key}  {record.value!r}"
    if isinstance(value, dict) and "ID" in value:
        shown = value.get("VALUE")
        if isinstance(shown, str) and len(shown) > 90:
            shown = shown[:87] + "..."
        return f"{record.key}  {value['ID']} = {shown!r}  ({value.get('TYPE')}, {value.get('TAG')})"
    return f"{record.topic:<28} {record.key}  {value}"


@dataclass
class World:
    """Where an app runs: the broker whose records are printed, and how a caller reaches it."""

    broker: FakeBroker
    ksql_client: Any
    bootstrap_servers: str | None = None
    settle: Callable[[], object] = lambda: None
    """Wait until ``broker`` holds everything the app published."""
    note: str = ""
    """Printed before the app starts: what the world is made of, when worth saying."""


@contextlib.contextmanager
def embedded_world(fanout: bool = False) -> Iterator[World]:
    """A fresh embedded in-memory broker; every app and asset built meanwhile is routed to it
    (through the broker's in-memory fan-out layer with ``fanout``)."""
    reset_embedded()
    ksqldb = embedded_ksqldb()
    router = {"ASSET_ROUTER_URL": MEMORY_ROUTER_URL} if fanout else {}
    with (
        override_transport(lambda _ksql, _bootstrap: embedded_transport()),
        _environment(**router),
    ):
        note = f"ofa-dev: fan-out in memory (ASSET_ROUTER_URL={MEMORY_ROUTER_URL})"
        yield World(ksqldb.broker, ksqldb, note=note if fanout else "")


@contextlib.contextmanager
def loopback_world(fanout: bool = False) -> Iterator[World]:
    """A real-protocol world: librdkafka's mock Kafka cluster on loopback and the fake ksqlDB
    served over HTTP, materializing from it; the app reaches them through ``KAFKA_BROKER`` and
    ``KSQLDB_URL`` on the production transport. With ``fanout``, also a nats-server, the asset
    router naming it (``ASSET_ROUTER_URL``) and the forwarder from Kafka to it."""
    from openfactory.kafka import KSQLDBClient
    from openfactory.testing.loopback import (
        FakeKSQLDBServer,
        KafkaMirror,
        LoopbackFanOut,
        LoopbackKafka,
    )

    with (
        LoopbackKafka() as kafka,
        KafkaMirror(kafka.bootstrap_servers) as mirror,
        FakeKSQLDBServer(FakeKSQLDB(mirror.broker)) as server,
        LoopbackFanOut(kafka.bootstrap_servers) if fanout else contextlib.nullcontext() as chain,
    ):
        client = KSQLDBClient(server.url)
        settings = {"KAFKA_BROKER": kafka.bootstrap_servers, "KSQLDB_URL": server.url}
        note = ""
        if chain is not None:
            settings["ASSET_ROUTER_URL"] = chain.router_url
            note = (
                f"ofa-dev: fan-out through nats-server {chain.nats.url} "
                f"(ASSET_ROUTER_URL={chain.router_url}), forwarded from Kafka"
            )
        try:
            with _environment(**settings):
                yield World(mirror.broker, client, kafka.bootstrap_servers, mirror.sync, note)
        finally:
            client.close()


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the ``with`` block; restore what was there after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _send_calls(
    calls: Sequence[Call], app_uuid: str, world: World, out: TextIO, stop: threading.Event
) -> None:
    view = Asset(app_uuid, world.ksql_client, world.bootstrap_servers)
    try:
        for call in calls:
            if stop.wait(call.delay):
                return
            registered = _wait_for_method(view, call.method, stop)
            if stop.is_set():
                return
            if not registered:
                print(f"ofa-dev: app {app_uuid} has no method {call.method!r}", file=out)
            try:
                view.method(call.method, CALLER_UUID, call.arguments)
            except OpenFactoryError as err:
                print(f"ofa-dev: {err}", file=out)
    finally:
        view.close()


def _wait_for_method(view: Asset, method: str, stop: threading.Event) -> bool:
    """Wait until ``view`` knows ``method`` (at most ``METHOD_WAIT`` s), giving up when the run
    stops: the view must be closed before the world it reads goes away."""
    for _ in range(int(METHOD_WAIT / _STOP_CHECK)):
        if stop.is_set():
            return False
        if view.wait_until(method, "UNAVAILABLE", comparison=operator.ne, timeout=_STOP_CHECK):
            return True
    return False


def run_app(
    path: Path,
    calls: Sequence[Call],
    duration: float | None,
    out: TextIO,
    loopback: bool = False,
    fanout: bool = False,
) -> int:
    """Run the app file at ``path`` in a fresh world (in memory, or ``loopback`` Kafka + ksqlDB
    over HTTP; with ``fanout``, the app follows assets through the fan-out layer); returns the
    exit code."""
    lock = threading.Lock()

    def show(record: Record) -> None:
        with lock:
            print(format_record(record), file=out, flush=True)

    with loopback_world(fanout) if loopback else embedded_world(fanout) as world:
        if world.note:
            print(world.note, file=out, flush=True)
        remove_listener = world.broker.add_listener(show)
        stop = threading.Event()
        sender = None
        if calls:
            args = (calls, app_uuid_from_env(), world, out, stop)
            sender = start_background_thread(_send_calls, name="ofa-dev-calls", args=args)
        if duration is not None:
            start_background_thread(
                _terminate_after, name="ofa-dev-timer", args=(duration, stop), daemon=False
            )
        code = 0
        try:
            runpy.run_path(str(path), run_name="__main__")
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        finally:
            stop.set()
            if sender is not None:
                sender.join(METHOD_WAIT)  # its view closed before the world goes away
            world.settle()  # print what the app published last (UNAVAILABLE, deregistration)
            remove_listener()
        left = world.broker.pending()
    if left:
        print(f"ofa-dev: {left} record(s) were never delivered", file=out)
        code = code or 1
    return code


def _terminate_after(duration: float, stop: threading.Event) -> None:
    if not stop.wait(duration):
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ofa-dev`` command."""
    # Help and messages are plain text: no reStructuredText markup from the docstrings.
    parser = argparse.ArgumentParser(prog="ofa-dev", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run an app file on the in-memory broker",
        description=RUN_DESCRIPTION,
        epilog=RUN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--loopback",
        action="store_true",
        help="run on a loopback Kafka (librdkafka mock cluster) and fake ksqlDB over HTTP instead",
    )
    run.add_argument(
        "--fanout",
        action="store_true",
        help="give the app an asset router: it follows assets through NATS (the fan-out layer; "
        "in memory, or with --loopback a real nats-server, router and forwarder)",
    )
    run.add_argument("app", type=Path, help="python file that builds and runs an OpenFactory app")
    run.add_argument(
        "--call",
        action="append",
        default=[],
        metavar="'METHOD k=v ...'",
        help="send this command to the app (repeatable)",
    )
    run.add_argument(
        "--call-after",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="wait this long before each --call (default 0.5)",
    )
    run.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="send SIGTERM to the app after this many seconds",
    )
    args = parser.parse_args(argv)
    if not args.app.is_file():
        run.error(f"app file {str(args.app)!r} does not exist")
    if args.duration is not None and args.duration <= 0:
        run.error(f"--duration must be > 0, got {args.duration}")
    if args.call_after < 0:
        run.error(f"--call-after must be >= 0, got {args.call_after}")
    try:
        calls = [Call.parse(text, args.call_after) for text in args.call]
    except ValueError as err:
        run.error(str(err))
    sys.path.insert(0, str(args.app.resolve().parent))
    return run_app(
        args.app, calls, args.duration, sys.stdout, loopback=args.loopback, fanout=args.fanout
    )


if __name__ == "__main__":
    raise SystemExit(main())
