"""Where an app's methods run, on every transport: in memory inside the caller's publish (so a test
sees the command executed when the call returns); on Kafka on the app's own command thread, so a
slow method holds up neither other assets' records nor other apps' commands. Either way an app's
commands run one at a time, in the order they arrived."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest
from outcomes import Outcomes

from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.assets import AssetAttribute
from openfactory.commands import CommandEnvelope
from openfactory.transport import Transport
from openfactory.transport.wire import COMMAND_SUFFIX, COMMAND_TAG, asset_record

TIMEOUT = 30.0


class Worker(OpenFactoryApp):
    """An app whose ``hold`` method blocks until the test releases it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.release = threading.Event()
        self.holding = threading.Event()
        self.ran: list[str] = []
        self.threads: set[int] = set()

    @ofa_method()
    def hold(self) -> None:
        self.ran.append("hold:start")
        self.holding.set()
        assert self.release.wait(TIMEOUT)
        self.ran.append("hold:end")

    @ofa_method()
    def escape(self, how: str) -> None:
        raise SystemExit(3) if how == "exit" else asyncio.CancelledError()

    @ofa_method()
    def note(self, text: str) -> None:
        self.threads.add(threading.get_ident())
        self.ran.append(text)


@pytest.fixture
def build(
    ksqldb, new_transport: Callable[[], Transport], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], Worker]]:
    """Build a ``Worker`` app with this UUID on a transport of its own (shut down after)."""
    apps: list[Worker] = []

    def build_one(uuid: str) -> Worker:
        monkeypatch.setenv("APP_UUID", uuid)
        app = Worker(ksqlClient=ksqldb, transport=new_transport())
        apps.append(app)
        return app

    yield build_one
    for app in apps:
        app.release.set()
        app.shutdown()


def send(transport: Transport, app: OpenFactoryApp, method: str, **arguments: str) -> None:
    """Publish a ``<method>_CMD`` record on ``app``'s key, as another asset would."""
    envelope = CommandEnvelope.new("contract-caller", arguments).to_json()
    record = asset_record(method + COMMAND_SUFFIX, envelope, COMMAND_TAG, "OpenFactory", "")
    transport.publish(transport.topic_for("ASSETS_STREAM"), app.asset_uuid, record)


def test_commands_run_one_at_a_time_in_arrival_order(build, new_transport) -> None:
    app, caller = build("ORDER-APP"), new_transport()
    outcomes = Outcomes(app, TIMEOUT)
    for n in range(20):
        send(caller, app, "note", text=f"n{n}")
    assert [o.status for o in outcomes.wait_count(20)] == ["executed"] * 20
    assert app.ran == [f"n{n}" for n in range(20)]
    assert len(app.threads) == 1


def test_where_a_method_runs_follows_the_transport(build, new_transport) -> None:
    app, caller = build("WHERE-APP"), new_transport()
    outcomes = Outcomes(app, TIMEOUT)
    send(caller, app, "note", text="first")
    if caller.inline_delivery:
        # In memory the command has run by the time the publish returns, on the caller's thread.
        assert [o.status for o in outcomes.seen] == ["executed"]
        assert app.threads == {threading.get_ident()}
    else:
        outcomes.wait_count(1)
        assert threading.get_ident() not in app.threads


def test_a_slow_method_holds_up_no_other_app_or_asset(build, new_transport) -> None:
    slow, other = build("SLOW-APP"), build("OTHER-APP")
    caller = new_transport()
    if caller.inline_delivery:
        pytest.skip("in memory a method runs inside the caller's publish: nothing runs meanwhile")
    slow_outcomes, other_outcomes = Outcomes(slow, TIMEOUT), Outcomes(other, TIMEOUT)
    send(caller, slow, "hold")
    # Records of different keys need not arrive in the order they were sent: wait for the
    # slow method to hold its app's command thread before commanding the other app.
    assert slow.holding.wait(TIMEOUT)
    send(caller, slow, "note", text="queued behind hold")
    send(caller, other, "note", text="other app")
    # The other app's command runs while the slow method still holds its own app's thread.
    assert [o.method for o in other_outcomes.wait_count(1)] == ["note"]
    assert other.ran == ["other app"]
    # So do other assets' records, delivered on the same topic reader.
    seen = threading.Event()
    other.subscribe_to_attribute("probe", lambda _uuid, _value: seen.set())
    other.add_attribute("probe", AssetAttribute("published meanwhile", "Events", "Probe"))
    assert seen.wait(TIMEOUT)
    assert slow.ran == ["hold:start"]
    slow.release.set()
    assert [o.method for o in slow_outcomes.wait_count(2)] == ["hold", "note"]
    assert slow.ran == ["hold:start", "hold:end", "queued behind hold"]


def test_nothing_a_method_raises_stops_command_intake(build, new_transport, capsys) -> None:
    app, caller = build("ESCAPE-APP"), new_transport()
    outcomes = Outcomes(app, TIMEOUT)
    send(caller, app, "escape", how="exit")
    send(caller, app, "escape", how="cancel")
    send(caller, app, "note", text="still here")
    seen = outcomes.wait_count(3)
    assert [(o.method, o.status) for o in seen] == [
        ("escape", "failed"),
        ("escape", "failed"),
        ("note", "executed"),
    ]
    assert "SystemExit" in (seen[0].error or "") and "CancelledError" in (seen[1].error or "")
    err = capsys.readouterr().err
    assert "Failed to execute escape with '" in err
    assert "': SystemExit: 3 (called as escape(how='exit'))" in err
