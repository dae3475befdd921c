"""The documented example app, driven end to end through the in-memory broker."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable

import pytest
from demo_app import DemoApp

from openfactory import __version__
from openfactory._threads import start_background_thread
from openfactory.assets import Asset
from openfactory.commands import CommandEnvelope
from openfactory.testing import FakeKSQLDB
from openfactory.transport.wire import asset_record, format_timestamp

APP = "DEMO-APP-001"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, ofa_ksqldb: FakeKSQLDB) -> DemoApp:
    monkeypatch.setenv("APP_UUID", APP)
    return DemoApp(ksqlClient=ofa_ksqldb, bootstrap_servers="unused:9092")


def published(ksqldb: FakeKSQLDB, asset: str = APP) -> list[dict]:
    return [r.json() for r in ksqldb.broker.records("ofa_assets", asset)]


def by_id(ksqldb: FakeKSQLDB, attr_id: str) -> list[dict]:
    return [v for v in published(ksqldb) if v["ID"] == attr_id]


def send_raw_command(ksqldb: FakeKSQLDB, method: str, value: object) -> None:
    ksqldb.broker.produce(
        "ofa_assets",
        APP,
        asset_record(f"{method}_CMD", value, "Method.Command", "OpenFactory", format_timestamp()),
    )


def test_declared_and_standard_attributes_are_published_with_tags_and_types(
    app: DemoApp, ofa_ksqldb: FakeKSQLDB
) -> None:
    latest = {v["ID"]: v for v in published(ofa_ksqldb)}
    assert latest["status"] | {"attributes": None} == {
        "ID": "status",
        "VALUE": "idle",
        "TAG": "App.Status",
        "TYPE": "Events",
        "attributes": None,
    }
    assert (latest["sample_rate"]["VALUE"], latest["sample_rate"]["TYPE"]) == (42, "Samples")
    assert latest["sample_rate"]["TAG"] == "Sample.Rate"
    expected = {
        "application_version": ("latest", "Application.Version"),
        "application_manufacturer": ("OpenFactoryIO", "Application.Manufacturer"),
        "application_license": ("BSD-3-Clause license", "Application.License"),
        "openfactory_manufacturer": ("OpenFactoryIO", "Library.Manufacturer"),
        "openfactory_license": ("BSD-3-Clause license", "Library.License"),
        "openfactory_version": (__version__, "Library.Version"),
    }
    for attr_id, (value, tag) in expected.items():
        assert (latest[attr_id]["VALUE"], latest[attr_id]["TAG"]) == (value, tag), attr_id
        assert latest[attr_id]["TYPE"] == "Events"
    # and they read back as AssetAttributes, as the documented API says
    assert app.application_version.value == "latest"
    assert app.status.value == "idle"


def test_methods_are_registered_with_their_contracts(app: DemoApp, ofa_ksqldb: FakeKSQLDB) -> None:
    (move,) = by_id(ofa_ksqldb, "move_axis")
    assert (move["TYPE"], move["TAG"]) == ("Method", "Method")
    assert json.loads(move["VALUE"]) == {
        "description": "Move to a given (x, y) position with speed",
        "arguments": [
            {"name": "x", "description": ""},
            {"name": "y", "description": ""},
            {"name": "speed", "description": ""},
        ],
    }
    (stop,) = by_id(ofa_ksqldb, "stop_axis")
    assert json.loads(stop["VALUE"]) == {
        "description": "Stops all motion immediately.",
        "arguments": [],
    }
    # another app sees the same contract through ksqlDB
    view = Asset(APP, ofa_ksqldb)
    assert set(view.methods()) == {"move_axis", "stop_axis"}


def test_move_axis_command_runs_with_converted_arguments(
    app: DemoApp, ofa_ksqldb: FakeKSQLDB, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = []
    app.add_command_observer(outcomes.append)
    caller = Asset(APP, ofa_ksqldb)
    correlation = caller.move_axis(sender_uuid="CALLER", x="1.5", y=2, speed="50")
    (outcome,) = outcomes
    assert outcome.status == "executed"
    assert outcome.correlation_id == correlation
    assert outcome.converted == {"x": 1.5, "y": 2.0, "speed": 50}
    assert type(outcome.converted["speed"]) is int
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "Moving" in line]
    assert line.startswith(f"[{APP}] (")
    assert line.endswith(") INFO Moving axis to x=1.5, y=2.0 at speed=50")


def test_default_argument_is_applied(app: DemoApp, ofa_ksqldb: FakeKSQLDB) -> None:
    outcomes = []
    app.add_command_observer(outcomes.append)
    Asset(APP, ofa_ksqldb).method("move_axis", "CALLER", {"x": 1, "y": 2})
    assert outcomes[0].converted == {"x": 1.0, "y": 2.0, "speed": 100}


@pytest.mark.parametrize(
    ("method", "value", "expected"),
    [
        ("move_axis", "{not json", "malformed command envelope"),
        ("move_axis", json.dumps({"arguments": {}}), "header"),
        ("move_axis", None, "malformed command envelope"),
        ("fly_away", CommandEnvelope.new("C", {}).to_json(), "unknown method 'fly_away'"),
        ("move_axis", CommandEnvelope.new("C", {"x": "fast", "y": "1"}).to_json(), "'fast'"),
        ("move_axis", CommandEnvelope.new("C", {"y": "1"}).to_json(), "x"),
    ],
)
def test_bad_commands_are_logged_and_the_app_runs_on(
    app: DemoApp,
    ofa_ksqldb: FakeKSQLDB,
    capsys: pytest.CaptureFixture[str],
    method: str,
    value: object,
    expected: str,
) -> None:
    outcomes = []
    app.add_command_observer(outcomes.append)
    send_raw_command(ofa_ksqldb, method, value)
    assert outcomes[0].status == "rejected"
    assert expected in outcomes[0].error
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert any(method in line and expected in line for line in errors)
    # still alive: a good command right after is executed
    Asset(APP, ofa_ksqldb).method("move_axis", "C", {"x": 1, "y": 2})
    assert outcomes[-1].status == "executed"


def run_until(app: DemoApp, ready: Callable[[], bool], then: Callable[[], None]) -> None:
    """Run ``app.run()`` in this (main) thread while a helper acts once ``ready()`` holds."""
    done = threading.Event()

    def helper() -> None:
        try:
            assert Asset(APP, app.ksql).wait_until("avail", "AVAILABLE", timeout=10)
            assert ready()
            then()
        finally:
            done.set()

    thread = start_background_thread(helper, name="helper")
    app.run()
    thread.join(10)
    assert done.is_set()


def test_sigterm_leads_to_unavailable_and_deregistration(
    app: DemoApp, ofa_ksqldb: FakeKSQLDB
) -> None:
    run_until(app, lambda: True, lambda: os.kill(os.getpid(), signal.SIGTERM))
    broker = ofa_ksqldb.broker
    avail = [v["VALUE"] for v in by_id(ofa_ksqldb, "avail")]
    assert avail == ["UNAVAILABLE", "AVAILABLE", "UNAVAILABLE"]
    ids = [v["ID"] for v in published(ofa_ksqldb)]
    assert ids.index("references_below") > max(i for i, id_ in enumerate(ids) if id_ == "avail")
    for reference in ("references_below", "references_above"):
        (record,) = by_id(ofa_ksqldb, reference)
        assert (record["VALUE"], record["TYPE"], record["TAG"]) == (
            "",
            "OpenFactory",
            "AssetsReferences",
        )
    for topic in ("assets_types_topic", "assets_avail_topic", "docker_services_topic"):
        (tombstone,) = broker.records(topic, APP)
        assert tombstone.is_tombstone
    (uns,) = broker.records("asset_to_uns_map_topic", APP)
    value = uns.json()
    assert value == {
        "asset_uuid": APP,
        "uns_id": None,
        "uns_levels": None,
        "updated_at": value["updated_at"],
    }
    assert isinstance(value["updated_at"], int)
    report = app.shutdown()
    assert report.clean
    assert report.steps == ["unavailable", "deregister", "app_event_loop_stopped", "flush", "close"]


def test_command_while_running_then_sigint(app: DemoApp, ofa_ksqldb: FakeKSQLDB) -> None:
    outcomes = []
    app.add_command_observer(outcomes.append)

    def act() -> None:
        Asset(APP, ofa_ksqldb).method("stop_axis", "CALLER", {})
        os.kill(os.getpid(), signal.SIGINT)

    run_until(app, lambda: True, act)
    assert [o.method for o in outcomes] == ["stop_axis"]
    assert by_id(ofa_ksqldb, "avail")[-1]["VALUE"] == "UNAVAILABLE"
