"""Without the ``fanout`` extra (nats-py): apps without a router, and in-memory apps with one,
run; a production app given a router fails with an error naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

HIDE_NATS = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "nats":
            raise ModuleNotFoundError("No module named " + repr(name), name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def test_only_a_production_app_given_a_router_needs_nats_py(tmp_path: Path) -> None:
    script = HIDE_NATS + textwrap.dedent(
        """
        import os
        from openfactory.apps import OpenFactoryApp
        from openfactory.kafka import KSQLDBClient
        from openfactory.testing.memory import FakeKSQLDB

        class App(OpenFactoryApp):
            def main_loop(self):
                pass

        App(FakeKSQLDB(), asset_router_url="http://router:8000").close()
        os.environ["ASSET_ROUTER_URL"] = "http://router:8000"
        App(FakeKSQLDB()).close()
        print("in memory: ok")
        try:
            App(KSQLDBClient("http://127.0.0.1:1"), bootstrap_servers="127.0.0.1:1")
        except ImportError as err:
            print("production:", err)
        print("nats loaded:", "nats" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "in memory: ok"
    assert lines[1].startswith("production: the fan-out layer")
    assert "pip install 'openfactory-app-sdk[fanout]'" in lines[1]
    assert "ASSET_ROUTER_URL" in lines[1]
    assert lines[2] == "nats loaded: False"
