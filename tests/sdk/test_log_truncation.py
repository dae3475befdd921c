"""Logs never amplify input: whatever a caller sends (a huge malformed command, argument name or
value, sender UUID, method name), the app's log lines stay short and say how long it was."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from openfactory._logtext import LOGGED_CHARS, shown
from openfactory.apps import OpenFactoryApp, ofa_method
from openfactory.commands import CommandEnvelope
from openfactory.testing import AppHarness
from openfactory.transport import Record

HUGE = 10 * 1024 * 1024
LONGEST_LINE = 2_000  # a few values of LOGGED_CHARS each, and the words around them


class Mover(OpenFactoryApp):
    @ofa_method()
    def move(self, x: float, label: str) -> str:
        return label


@pytest.fixture
def world() -> Iterator[tuple[AppHarness, Mover]]:
    with AppHarness() as harness:
        yield harness, harness.build(Mover, "MOVER")


def longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def envelope(arguments: dict[str, str], sender: str = "CALLER") -> str:
    return CommandEnvelope.new(sender, arguments).to_json()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{" + "x" * HUGE, id="malformed envelope"),
        pytest.param(envelope({"x": "1", "label": "a", "y" * HUGE: "1"}), id="argument name"),
        pytest.param(envelope({"x": "z" * HUGE, "label": "a"}), id="unconvertible value"),
        pytest.param(json.dumps({"header": "h" * HUGE, "arguments": {}}), id="bad header"),
    ],
)
def test_a_huge_command_logs_a_short_line(
    world: tuple[AppHarness, Mover], capsys: pytest.CaptureFixture[str], value: str
) -> None:
    harness, app = world
    capsys.readouterr()
    harness.send_raw_command(app, "move", value)
    err = capsys.readouterr().err
    assert "chars)" in err  # the length of what was cut is shown
    assert longest_line(err) < LONGEST_LINE


@pytest.mark.parametrize("where", ["sender", "value"])
def test_a_valid_call_with_a_huge_sender_or_value_logs_a_short_line(
    world: tuple[AppHarness, Mover], capsys: pytest.CaptureFixture[str], where: str
) -> None:
    harness, app = world
    capsys.readouterr()
    huge = "s" * HUGE
    if where == "sender":
        outcome = harness.call(app, "move", sender=huge, x="1", label="a")
    else:
        outcome = harness.call(app, "move", x="1", label=huge)
    assert outcome is not None and outcome.status == "executed"
    err = capsys.readouterr().err
    assert f"({HUGE} chars)" in err
    assert longest_line(err) < LONGEST_LINE


def test_a_command_for_a_huge_unknown_method_logs_a_short_line(
    world: tuple[AppHarness, Mover], capsys: pytest.CaptureFixture[str]
) -> None:
    harness, app = world
    capsys.readouterr()
    harness.send_raw_command(app, "m" * HUGE, envelope({}))
    err = capsys.readouterr().err
    assert "unknown method" in err and longest_line(err) < LONGEST_LINE


def test_a_record_shows_a_huge_key_and_value_cut_short() -> None:
    text = repr(Record("ofa_assets", "k" * HUGE, b"v" * HUGE))
    assert len(text) < 3 * LOGGED_CHARS
    assert f"({HUGE} chars)" in text and f"({HUGE} bytes)" in text


def test_shown_cuts_values_and_survives_a_broken_repr() -> None:
    assert shown("abc") == "'abc'"
    assert shown("a" * 500, limit=3) == "'aaa'... (500 chars)"
    assert shown(b"b" * 9, limit=2) == "b'bb'... (9 bytes)"
    assert shown({"k": "v" * 500}, limit=10) == "{'k': 'vvv... (509 chars)"
    assert shown(ValueError("bad value")) == "bad value"

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert shown(Hostile()) == "<Hostile whose repr raised RuntimeError>"
