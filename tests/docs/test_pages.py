"""Every code block of the documentation runs, so the pages cannot drift from the SDK.

In each page under ``docs/`` (in order, in a fresh directory per page):

- a ```` ```python title="NAME" ```` block is a file the reader writes: it is written as NAME
  (a later block with the same title replaces it). A python block without a title fails.
- a ```` ```bash ```` block is run line by line in that directory with this environment's
  ``ofa-dev``, ``pytest`` and ``python`` on the PATH; each command must exit 0 unless its
  comment says ``# fails``. A ```` ```text ```` block right after it is what the commands print:
  each of its lines must begin a line of the output, in order (``...`` stands for any text;
  durations, timestamps, UUIDs and the recorder's record numbers may differ; pytest's ``=``
  rulers and runs of spaces are ignored).
- ```` ```pycon ```` blocks run as doctests, in one namespace per page.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<lang>[\w-]*)(?P<info>.*)$")
TITLE = re.compile(r'title="([^"]+)"')
COMMAND_TIMEOUT = 300.0
# Values that change from run to run, and the pattern that stands for them in an expected line.
VARYING = [
    (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", r"[0-9a-f-]{36}"),
    (r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?Z?", r"\d{4}-\d\d-\d\d[ T][\d:.]+Z?"),
    (r"\b\d+\.\d+s\b", r"\d+(?:\.\d+)?s"),
    (r"#\d+\b", r"#\d+"),  # a record's number in the recorder's timeline
]


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page: its language, title (if any), text and first line."""

    lang: str
    title: str | None
    text: str
    line: int
    follows: str | None  # the language of the block right before it, blank lines apart


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, in order (also inside admonitions)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    previous_end, previous_lang = -2, None
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        title = TITLE.search(match["info"])
        adjacent = all(not line.strip() for line in lines[previous_end + 1 : start])
        found.append(
            Block(
                match["lang"],
                title[1] if title else None,
                "\n".join(body) + "\n",
                start + 1,
                previous_lang if adjacent else None,
            )
        )
        previous_end, previous_lang = i, match["lang"]
        i += 1
    return found


def pages() -> list[Path]:
    """Pages with a block to run."""
    return [
        page
        for page in sorted(DOCS.rglob("*.md"))
        if any(b.lang in ("python", "bash", "pycon") for b in blocks(page))
    ]


def commands(script: str) -> list[str]:
    """The commands of a bash block: one per line, ``\\`` continuations joined."""
    joined = script.replace("\\\n", " ")
    return [
        line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def pattern(expected: str) -> re.Pattern[str]:
    """An expected output line as a regular expression (see the module docstring)."""
    parts = [r"\.\.\."] + [varying for varying, _ in VARYING]
    pieces = re.split("(" + "|".join(parts) + ")", normalize(expected))
    regex = ""
    for piece in pieces:
        if piece == "...":
            regex += ".*"
        elif any(re.fullmatch(varying, piece) for varying, _ in VARYING):
            regex += next(shape for varying, shape in VARYING if re.fullmatch(varying, piece))
        else:
            regex += re.escape(piece)
    return re.compile(regex)


def normalize(line: str) -> str:
    """A line without pytest's ``=`` rulers and with single spaces."""
    return " ".join(line.strip().strip("=").split())


def assert_printed(expected: str, output: str, where: str) -> None:
    """Each line of ``expected`` begins a line of ``output``, in order."""
    printed = [normalize(line) for line in output.splitlines()]
    position = 0
    for wanted in expected.splitlines():
        if normalize(wanted) in ("", "..."):
            continue
        regex = pattern(wanted)
        for index in range(position, len(printed)):
            if regex.match(printed[index]):
                position = index + 1
                break
        else:
            pytest.fail(
                f"{where}: the line {wanted.strip()!r} was not printed (after line {position}); "
                f"the commands printed:\n{output}"
            )


def run_commands(block: Block, directory: Path, where: str) -> str:
    env = {**os.environ, "COLUMNS": "100"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTEST_ADDOPTS", None)
    output = ""
    for command in commands(block.text):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        output += done.stdout
        fails = re.search(r"#\s*fails\b", command) is not None
        if (done.returncode != 0) != fails:
            expected = "to fail" if fails else "to exit 0"
            pytest.fail(
                f"{where}: {command!r} exited {done.returncode}, expected {expected}:\n"
                f"{done.stdout}"
            )
    return output


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_block_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    globs: dict[str, object] = {"__name__": "__doc__"}
    output: str | None = None
    sys.path.insert(0, str(tmp_path))
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        for block in blocks(page):
            where = f"{page.relative_to(DOCS)}, line {block.line}"
            if block.lang == "python":
                assert block.title, f"{where}: a python block needs a title (the file it is)"
                (tmp_path / block.title).write_text(block.text, encoding="utf-8")
            elif block.lang == "bash":
                output = run_commands(block, tmp_path, where)
            elif block.lang == "text" and block.follows == "bash":
                assert output is not None
                assert_printed(block.text, output, where)
            elif block.lang == "pycon":
                run_doctest(block, globs, where)
    finally:
        os.chdir(cwd)
        sys.path.remove(str(tmp_path))


def run_doctest(block: Block, globs: dict[str, object], where: str) -> None:
    test = doctest.DocTestParser().get_doctest(block.text, globs, where, where, block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    globs.update(test.globs)  # DocTest works on a copy: the page's next blocks continue it
    assert runner.failures == 0, "".join(report)


def test_the_tutorial_runs_files_commands_and_checks_their_output() -> None:
    tutorial = blocks(DOCS / "tutorial.md")
    assert any(b.lang == "python" and b.title for b in tutorial)
    assert any("ofa-dev run --loopback" in b.text for b in tutorial if b.lang == "bash")
    checked = [b for b in tutorial if b.lang == "text" and b.follows == "bash"]
    assert len(checked) == len([b for b in tutorial if b.lang == "bash"])


def test_expected_output_lines_match_in_order_and_only_what_varies_may_differ() -> None:
    printed = """\
============ test session starts ============
[OVEN-1] (2026-11-26 07:29:00) INFO running set_setpoint(celsius=30.0) for ofa-dev
OVEN-1  set_setpoint_CMD = '{"header":{"correlation_id":"e42d794d-4b15-4d90-823c-67226e98b02e"}'
==================== 4 passed in 0.74s ====================
"""
    assert_printed(
        """\
[OVEN-1] (2026-05-04 12:00:00) INFO running set_setpoint(celsius=30.0) for ofa-dev
OVEN-1 set_setpoint_CMD = '{"header":{"correlation_id":"4bd5405e-a93c-45d1-b43f-e32da83caaae"}'
...
4 passed in 0.31s
""",
        printed,
        "example",
    )
    for wrong in ("4 passed in 0.31s\n[OVEN-1] (2026-05-04 12:00:00) INFO", "5 passed", "OVEN-2"):
        with pytest.raises(pytest.fail.Exception):
            assert_printed(wrong, printed, "example")
