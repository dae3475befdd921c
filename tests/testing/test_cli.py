"""``ofa-dev run``: any app file on the embedded broker, with commands and a timed SIGTERM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openfactory.testing.cli import Call, main

DEMO = Path(__file__).parents[2] / "examples" / "demo_app.py"


def test_call_parsing() -> None:
    call = Call.parse("move_axis x=1 y=2 'label=a b'", 0.5)
    assert call == Call("move_axis", {"x": "1", "y": "2", "label": "a b"}, 0.5)
    with pytest.raises(ValueError, match="'x'"):
        Call.parse("move_axis x", 0)
    with pytest.raises(ValueError, match="method name"):
        Call.parse("", 0)


def test_bad_options_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "no/such/app.py"])
    assert exit_.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_demo_runs_on_the_embedded_broker_and_exits_cleanly() -> None:
    # A real process: the file builds a KSQLDBClient and reads KAFKA_BROKER, yet runs in memory.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openfactory.testing.cli",
            "run",
            str(DEMO),
            "--call",
            "move_axis x=1 y=2 speed=50",
            "--call-after",
            "0",
            "--duration",
            "1.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KAFKA_BROKER": "nowhere:9092", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "DEV-UUID  avail = 'AVAILABLE'  (Events, Availability)" in out
    assert "DEV-UUID  status = 'idle'  (Events, App.Status)" in out
    assert "move_axis_CMD" in out
    assert "Moving axis to x=1.0, y=2.0 at speed=50" in result.stderr
    assert out.index("'UNAVAILABLE'") < out.index("'AVAILABLE'") < out.rindex("'UNAVAILABLE'")
    assert "<tombstone>" in out


def test_demo_runs_on_loopback_kafka_and_fake_ksqldb_over_http() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openfactory.testing.cli", "run", str(DEMO), "--loopback",
         "--call", "stop_axis", "--call-after", "0", "--duration", "2"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "DEV-UUID  avail = 'AVAILABLE'  (Events, Availability)" in result.stdout
    assert "Stopping all axis" in result.stderr
    assert "DEV-UUID  avail = 'UNAVAILABLE'  (Events, Availability)" in result.stdout
    assert "assets_avail_topic           DEV-UUID  <tombstone>" in result.stdout
