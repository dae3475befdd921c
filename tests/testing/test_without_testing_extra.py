"""A production install (no ``testing`` extra) runs apps, ``test_mode`` ones included, and a
pytest that happens to be installed still starts with the plugin.

Each check runs in a fresh interpreter where the extra's packages cannot be imported, as if
they were not installed (building a venv without them would need the package index).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

EXTRA = ("freezegun", "hypercorn", "hypothesis")

NOT_INSTALLED = """
import sys

class NotInstalled:
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError("No module named " + repr(name), name=name)
        return None

sys.meta_path.insert(0, NotInstalled(MISSING))
"""


def run_python(code: str, missing: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = f"MISSING = {missing!r}\n" + NOT_INSTALLED + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_a_test_mode_app_runs_without_the_extra_or_pytest(tmp_path: Path) -> None:
    result = run_python(
        """
        import openfactory.apps
        import openfactory.kafka
        from openfactory.apps import OpenFactoryApp, SampleAttribute
        from openfactory.testing import embedded_broker

        class Counter(OpenFactoryApp):
            count = SampleAttribute(value=0, tag="Counter.Value")

            def main_loop(self):
                for _ in range(3):
                    self.count = self.count.value + 1

        Counter(openfactory.kafka.KSQLDBClient("http://localhost:1"), test_mode=True).run()
        records = embedded_broker().records("ofa_assets", "DEV-UUID")
        print([r.json()["VALUE"] for r in records if r.json()["ID"] == "count"])
        loaded = sorted(n for n in ("freezegun", "hypercorn", "hypothesis", "pytest")
                        if n in sys.modules)
        print("loaded:", loaded)
        """,
        (*EXTRA, "pytest"),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["[0, 1, 2, 3]", "loaded: []"]


def test_pytest_starts_and_only_the_harness_fixtures_ask_for_the_extra(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            """
            def test_broker_needs_nothing_more(ofa_broker):
                ofa_broker.produce("t", "k", b"{}")
                assert len(ofa_broker.records("t")) == 1

            def test_the_harness_needs_the_extra(ofa_app):
                pass
            """
        )
    )
    result = run_python(
        """
        import pytest
        sys.exit(pytest.main(["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-q",
                              "-rf", "test_app.py"]))
        """,
        EXTRA,
        tmp_path,
    )
    out = result.stdout
    assert "1 passed, 1 error" in out, out + result.stderr
    assert "pip install 'openfactory-app-sdk[testing]'" in out
    assert "Traceback" not in out and "INTERNALERROR" not in out
