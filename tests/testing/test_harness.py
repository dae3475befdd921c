"""The app harness and recorder: build, command, read state, assert with a timeline."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from openfactory.apps import EventAttribute, OpenFactoryApp, ofa_method
from openfactory.errors import CommandError, ConfigurationError
from openfactory.testing import AppHarness, RecorderAssertionError
from openfactory.testing.strategies import (
    asset_attributes,
    asset_uuids,
    command_envelopes,
    invalid_command_envelopes,
    method_arguments,
)


class Valve(OpenFactoryApp):
    position = EventAttribute(value="closed", tag="Valve.Position")

    @ofa_method(description="Open the valve to a percentage")
    def open(self, percent: int, reason: str = "manual") -> int:
        if percent > 100:
            raise ValueError(f"cannot open beyond 100%, got {percent}")
        self.position = f"open {percent}%"
        return percent

    def main_loop(self) -> None:
        self.position = "idle"


@pytest.fixture
def harness(tmp_path) -> AppHarness:
    with AppHarness(storage_root=tmp_path) as world:
        yield world


def test_call_and_assert(harness: AppHarness) -> None:
    valve = harness.build(Valve, "VALVE-1")
    outcome = harness.call(valve, "open", percent=40)
    assert outcome is not None and outcome.result == 40
    harness.recorder.assert_executed("open", percent=40, reason="manual")
    harness.recorder.assert_last("position", "open 40%")
    assert harness.recorder.commands_for("open")[0].asset == "VALVE-1"
    assert harness.view("VALVE-1").position.value == "open 40%"
    rows = harness.query("SELECT VALUE FROM assets WHERE ASSET_UUID='VALVE-1' AND ID='position';")
    assert rows == [{"VALUE": "open 40%"}]


def test_call_sends_what_a_view_sends_and_refuses_what_a_view_refuses(
    harness: AppHarness,
) -> None:
    valve = harness.build(Valve, "VALVE-1")
    harness.call(valve, "open", sender="HMI-1", percent=40)
    harness.view("VALVE-1").method("open", "HMI-1", {"percent": 40})
    placeholder, by_harness, by_view = harness.recorder.commands_for("open")
    assert placeholder.value == ""  # published by the app when built
    for field in ("asset", "id", "type", "tag", "topic"):
        assert getattr(by_harness, field) == getattr(by_view, field)
    sent = [json.loads(record.value) for record in (by_harness, by_view)]
    assert sent[0]["arguments"] == sent[1]["arguments"] == {"percent": "40"}
    assert sent[0]["header"]["sender_uuid"] == sent[1]["header"]["sender_uuid"] == "HMI-1"
    assert sent[0]["header"].keys() == sent[1]["header"].keys()
    assert [o.status for o in harness.recorder.outcomes] == ["executed", "executed"]
    errors = []
    for send in (
        lambda method, **arguments: harness.call(valve, method, **arguments),
        lambda method, **arguments: harness.view("VALVE-1").method(method, "HMI-1", arguments),
    ):
        for method, arguments in (("close", {}), ("open", {"percent": object()})):
            with pytest.raises(CommandError) as error:
                send(method, **arguments)
            errors.append(str(error.value).split(" at 0x")[0])
    assert errors[:2] == errors[2:]
    assert "asset 'VALVE-1' has no such method (known: open)" in errors[0]
    assert len(harness.recorder.commands_for("open")) == 3  # nothing sent for either


def test_failures_and_rejections_are_recorded(harness: AppHarness) -> None:
    valve = harness.build(Valve, "VALVE-1")
    failed = harness.call(valve, "open", percent=140)
    assert failed is not None and failed.status == "failed"
    assert "beyond 100%" in (failed.error or "")
    rejected = harness.send_raw_command(valve, "open", "{garbage")
    assert rejected.status == "rejected"
    assert len(harness.recorder.errors) == 2
    with pytest.raises(RecorderAssertionError, match="errors were logged"):
        harness.recorder.assert_no_errors()


def test_assertion_failure_prints_the_timeline(harness: AppHarness) -> None:
    valve = harness.build(Valve, "VALVE-1")
    harness.call(valve, "open", percent=10)
    with pytest.raises(RecorderAssertionError) as failure:
        harness.recorder.assert_last("position", "open 99%")
    text = str(failure.value)
    assert "expected the last position to be 'open 99%', it is 'open 10%'" in text
    assert "VALVE-1.position='closed' (Events, Valve.Position)" in text
    assert "command open: executed percent=10, reason='manual'" in text


def test_env_and_storage(harness: AppHarness, tmp_path) -> None:
    valve = harness.build(Valve, "VALVE-2", env={"APPLICATION_VERSION": "9.9"}, storage=True)
    assert valve.application_version.value == "9.9"
    valve.storage.write_text("log.txt", "ok")
    assert (tmp_path / "VALVE-2" / "log.txt").read_text() == "ok"


def test_run_until_loop_ends(harness: AppHarness) -> None:
    valve = harness.build(Valve, "VALVE-1")
    result = harness.run(valve)
    assert result.clean and result.turns == 0
    assert harness.recorder.values("position") == ["closed", "idle"]


@given(arguments=method_arguments(Valve.open))
@settings(max_examples=50, deadline=None)
def test_open_accepts_every_well_typed_call(arguments: dict[str, str]) -> None:
    with AppHarness() as world:
        valve = world.build(Valve, "VALVE-P")
        outcome = world.call(valve, "open", **arguments)
        assert outcome is not None and outcome.status in {"executed", "failed"}
        if outcome.status == "failed":
            assert int(arguments["percent"]) > 100


@given(envelope=invalid_command_envelopes())
@settings(max_examples=50, deadline=None)
def test_invalid_envelopes_are_rejected_and_the_app_runs_on(envelope: str) -> None:
    with AppHarness() as world:
        valve = world.build(Valve, "VALVE-P")
        assert world.send_raw_command(valve, "open", envelope).status == "rejected"
        assert world.call(valve, "open", percent=1).status == "executed"


@given(envelope=command_envelopes(), uuid=asset_uuids(), attribute=asset_attributes())
@settings(max_examples=50, deadline=None)
def test_strategies_produce_wire_valid_data(envelope: str, uuid: str, attribute) -> None:
    decoded = json.loads(envelope)
    assert set(decoded) == {"header", "arguments"}
    assert all(isinstance(v, str) for v in decoded["arguments"].values())
    assert uuid.strip() == uuid and uuid
    assert attribute.type in {"Samples", "Events", "Condition"}
    if attribute.type == "Samples":
        assert isinstance(attribute.value, int | float)


def test_method_arguments_needs_a_decorated_method() -> None:
    with pytest.raises(ConfigurationError, match="not decorated"):
        method_arguments(lambda self: None)
