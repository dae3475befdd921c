"""Reference section 4.6 (and section 11, item 9): ``method()`` with ``(name, value)`` pairs or
a mapping, the command record it publishes, the callable form ``asset.<method>(sender_uuid=...,
...)``, and the refresh from ksqlDB before a method is refused."""

from __future__ import annotations

import json
import operator
import uuid
from typing import Any

import pytest

from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.assets import Asset
from openfactory.errors import CommandError
from openfactory.exceptions import OFAException
from openfactory.testing.memory import FakeKSQLDB
from openfactory.transport.wire import asset_record

TS = "2026-05-04T12:34:56.789Z"
APP = "MOVER-1"
CONTRACT = json.dumps({"description": "Move", "arguments": [
    {"name": "x", "description": ""}, {"name": "y", "description": ""}]})  # fmt: skip


def commands(ksql: FakeKSQLDB, asset: str = APP) -> list[dict[str, Any]]:
    values = [json.loads(r.value or b"") for r in ksql.broker.records("ofa_assets", asset)]
    return [v for v in values if v["ID"].endswith("_CMD") and v["VALUE"]]


def publish(ksql: FakeKSQLDB, attr: str, value: Any, tag: str, type_: str) -> None:
    ksql.broker.produce("ofa_assets", APP, asset_record(attr, value, tag, type_, TS))


@pytest.fixture
def ksql() -> FakeKSQLDB:
    """A deployment holding a 0.5.3 app's records: its contract and its placeholder."""
    ksql = FakeKSQLDB()
    publish(ksql, "move_axis", CONTRACT, "Method", "Method")
    publish(ksql, "move_axis_CMD", "", "Method.Command", "OpenFactory")
    return ksql


def test_the_documented_call_publishes_the_command_record(ksql: FakeKSQLDB) -> None:
    correlation_id = Asset(APP, ksql).method("move_axis", "HMI-1", args=[("x", "1"), ("y", "2")])
    assert correlation_id == str(uuid.UUID(correlation_id)) and correlation_id.islower()
    [command] = commands(ksql)
    assert (command["ID"], command["TAG"], command["TYPE"]) == (
        "move_axis_CMD", "Method.Command", "OpenFactory",
    )  # fmt: skip
    envelope = json.loads(command["VALUE"])
    assert list(envelope) == ["header", "arguments"]
    assert list(envelope["header"]) == ["correlation_id", "sender_uuid", "timestamp", "signature"]
    assert envelope["header"]["correlation_id"] == correlation_id
    assert (envelope["header"]["sender_uuid"], envelope["header"]["signature"]) == ("HMI-1", None)
    assert envelope["arguments"] == {"x": "1", "y": "2"}


def arguments_sent(ksql: FakeKSQLDB) -> dict[str, str]:
    arguments: dict[str, str] = json.loads(commands(ksql)[-1]["VALUE"])["arguments"]
    return arguments


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        ({"x": "1", "y": "2"}, {"x": "1", "y": "2"}),  # a mapping works too
        ([("x", "1"), ("x", "3")], {"x": "3"}),  # a repeated name keeps the last value
        ((("x", "1"),), {"x": "1"}),
        ([["x", "1"]], {"x": "1"}),
        ({"x": 1, "y": 2.5}, {"x": "1", "y": "2.5"}),  # values are sent as strings
        (None, {}),
        ([], {}),
    ],
)
def test_args_forms(ksql: FakeKSQLDB, args: Any, sent: dict[str, str]) -> None:
    Asset(APP, ksql).method("move_axis", "HMI-1", args)
    assert arguments_sent(ksql) == sent


def test_args_default_to_none(ksql: FakeKSQLDB) -> None:
    Asset(APP, ksql).method("move_axis", "HMI-1")
    assert arguments_sent(ksql) == {}


@pytest.mark.parametrize("args", ["x=1", [("x", "1", "extra")], [("x",)], 5])
def test_args_of_another_shape_are_refused(ksql: FakeKSQLDB, args: Any) -> None:
    with pytest.raises(CommandError, match=r"\(name, value\) pairs"):
        Asset(APP, ksql).method("move_axis", "HMI-1", args)
    assert commands(ksql) == []


def test_a_command_is_sent_without_a_placeholder_to_go_through() -> None:
    # Section 11, item 9: 0.5.3 sent nothing when the target listed no <method>_CMD.
    ksql = FakeKSQLDB()
    publish(ksql, "move_axis", CONTRACT, "Method", "Method")
    Asset(APP, ksql).method("move_axis", "HMI-1", [("x", "1")])
    assert len(commands(ksql)) == 1


def test_a_method_the_view_missed_is_looked_up_in_ksqldb_before_refusing(
    ksql: FakeKSQLDB,
) -> None:
    # The case: a caller whose first ksqlDB query came too early (over Kafka: before
    # ksqlDB had the app's contract, published before the caller's feed began) knew no method,
    # even once wait_until(use_ksqlDB=True) had seen it.
    ksql.fail_next_queries(1)
    caller = Asset(APP, ksql)
    assert caller.methods() == {}
    assert caller.wait_until("move_axis", "UNAVAILABLE", operator.ne, timeout=1, use_ksqlDB=True)
    assert caller.method("move_axis", "HMI-1", [("x", "1")])
    assert len(commands(ksql)) == 1
    with pytest.raises(CommandError, match=r"no such method \(known: move_axis\)"):
        caller.method("explode", "HMI-1")


def test_the_callable_form(ksql: FakeKSQLDB) -> None:
    caller = Asset(APP, ksql)
    correlation_id = caller.move_axis(sender_uuid="HMI-1", x="1", y="2")
    assert json.loads(commands(ksql)[-1]["VALUE"])["header"]["correlation_id"] == correlation_id
    assert arguments_sent(ksql) == {"x": "1", "y": "2"}
    for missing in ({}, {"sender_uuid": ""}, {"sender_uuid": None}):
        with pytest.raises(ValueError, match="sender_uuid must be provided for method execution"):
            caller.move_axis(x="1", **missing)
    with pytest.raises(TypeError, match="by name"):
        caller.move_axis("1", "2", sender_uuid="HMI-1")
    assert len(commands(ksql)) == 1


class Mover(OpenFactoryApp):
    """An app whose method the calls above reach."""

    @ofa_method()
    def move_axis(self, x: float, y: float = 0.0) -> None:
        self.moves.append((x, y))


def test_the_app_runs_what_both_forms_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_UUID", APP)
    ksql = FakeKSQLDB()
    app = Mover(ksql)
    app.moves = []
    caller = Asset(APP, ksql)
    caller.method("move_axis", "HMI-1", args=[("x", "1.5"), ("y", "2")])
    caller.method("move_axis", "HMI-1", {"x": 3})
    caller.move_axis(sender_uuid="HMI-1", x="4", y="5")
    assert app.moves == [(1.5, 2.0), (3.0, 0.0), (4.0, 5.0)]


def test_a_refused_call_is_an_ofa_exception(ksql: FakeKSQLDB) -> None:
    with pytest.raises(OFAException):
        Asset(APP, ksql).method("explode", "HMI-1")
