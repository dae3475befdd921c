"""What an author sees when a harness assertion fails: the traceback ends at the test's own
line (the recorder hides its frames with ``__tracebackhide__``) and shows the timeline; and
``ofa-dev`` speaks plain text."""

from __future__ import annotations

import pytest

from openfactory.testing.cli import main

LAMP = """
from openfactory.apps import EventAttribute, OpenFactoryApp, ofa_method

class Lamp(OpenFactoryApp):
    state = EventAttribute(value="off", tag="Lamp.State")

    @ofa_method()
    def switch(self, on: bool) -> None:
        \"\"\"Switch the lamp.\"\"\"
        self.state = "on" if on else "off"
"""

FAILING = """
import pytest
from lamp_app import Lamp


@pytest.fixture
def lamp(ofa_app):
    return ofa_app.build(Lamp, "LAMP-1")


def test_assert_last(lamp, ofa_recorder):
    ofa_recorder.assert_last("state", "on")


def test_assert_published(lamp, ofa_recorder):
    ofa_recorder.assert_published("state", "dim")


def test_assert_executed(lamp, ofa_app, ofa_recorder):
    ofa_app.call(lamp, "switch", on="true")
    ofa_recorder.assert_executed("switch", on=False)


def test_assert_no_errors(lamp, ofa_app, ofa_recorder):
    ofa_app.call(lamp, "switch", on="maybe")
    ofa_recorder.assert_no_errors()


def test_last(lamp, ofa_recorder):
    ofa_recorder.last("brightness")
"""


@pytest.fixture
def failing(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(lamp_app=LAMP, test_failing=FAILING)
    pytester.syspathinsert()
    return pytester.runpytest("-p", "no:cacheprovider")


def test_each_failure_ends_at_the_tests_own_line(failing: pytest.RunResult) -> None:
    failing.assert_outcomes(failed=5)
    recorded = failing.reprec.getreports("pytest_runtest_logreport")  # pytest's own reports
    reports = [report for report in recorded if report.failed]
    assert len(reports) == 5
    for report in reports:
        last = report.longrepr.reprtraceback.reprentries[-1]
        assert last.reprfileloc.path == "test_failing.py", report.nodeid
        assert last.reprfileloc.message == "RecorderAssertionError"
    assert "recorder.py" not in failing.stdout.str()


def test_the_failure_shows_the_line_and_the_timeline(failing: pytest.RunResult) -> None:
    failing.stdout.fnmatch_lines(
        [
            '>       ofa_recorder.assert_last("state", "on")',
            "E       *RecorderAssertionError: expected the last state to be 'on', it is 'off'",
            "E       what was published:",
            "E         #*LAMP-1.state='off' (Events, Lamp.State) @*",
            "test_failing.py:11: RecorderAssertionError",  # the assert_last line,
        ]
    )
    failing.stdout.fnmatch_lines(["E         command switch: rejected*"])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["run", "no/such/app.py"], ["run", "x.py", "--call", ""]],
    ids=["help", "run-help", "missing-file", "empty-call"],
)
def test_ofa_dev_speaks_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "ofa-dev" in text
    assert "``" not in text and ":class:" not in text and ":func:" not in text
