"""``ofa-dev run --fanout``: the demo app follows its commands through the fan-out layer, in
memory and on loopback (a real nats-server, the asset router and the forwarder from Kafka)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).parents[2] / "examples" / "demo_app.py"


def run_demo(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openfactory.testing.cli", "run", str(DEMO), *options,
         "--call", "stop_axis", "--call-after", "0"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def test_demo_takes_its_commands_through_the_in_memory_fanout_layer() -> None:
    result = run_demo("--fanout", "--duration", "1")
    assert result.returncode == 0, result.stderr
    assert "ofa-dev: fan-out in memory (ASSET_ROUTER_URL=http://" in result.stdout
    assert "Stopping all axis" in result.stderr


def test_demo_takes_its_commands_through_nats_on_loopback() -> None:
    # Four hops each way (Kafka, forwarder, NATS, app): time enough on a busy CI machine.
    result = run_demo("--loopback", "--fanout", "--duration", "3")
    shown = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, shown
    assert "ofa-dev: fan-out through nats-server nats://127.0.0.1:" in result.stdout, shown
    assert "DEV-UUID  avail = 'AVAILABLE'  (Events, Availability)" in result.stdout, shown
    assert "Stopping all axis" in result.stderr, shown  # the command came back from NATS
    assert "DEV-UUID  avail = 'UNAVAILABLE'  (Events, Availability)" in result.stdout, shown
    assert "ERROR" not in result.stderr, shown
