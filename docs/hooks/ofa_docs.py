"""MkDocs hooks of this site: where mkdocstrings reads the package, and the generated sections.

1. ``pyproject.toml`` maps ``openfactory`` to ``sdk/`` and ``openfactory.testing`` to
   ``testing/``; griffe (mkdocstrings' loader) finds packages on disk and cannot follow that
   mapping, so ``on_config`` lays out the same tree of links as ``scripts/link_tree.sh`` under
   ``build/docs-src`` (the handler's ``paths`` in ``mkdocs.yml``). Offline, in a fresh clone.
2. A page line ``<!-- generate: NAME [ARG] -->`` is replaced by text computed from the code at
   build time, so it follows the code: ``ofa-dev-help [run]`` (the CLI's help),
   ``compat-module-paths`` (the platform's module paths that ``tests/compat`` imports) and
   ``compat-checks`` (every check of ``tests/compat``, by reference section); and an inline
   ``<!-- checked-by: section S item N -->`` becomes the test files citing that item.

``tests/docs`` imports this file to check the API reference against ``__all__``.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

REPO = Path(__file__).resolve().parents[2]
TREE = REPO / "build" / "docs-src"
REFERENCE = REPO / "docs" / "reference"
COMPAT = REPO / "tests" / "compat"
MARKER = re.compile(r"^<!-- generate: ([\w-]+)(?: (\w+))? -->$", re.MULTILINE)
INLINE = re.compile(r"<!-- checked-by: section (\d+) item (\d+) -->")
# "section 11, item 2", "section 11 item 10", "section 11, items 15 and 16", "the section 11
# defects not reproduced (items 6, 12, 13)": how the tests cite the reference's numbered items.
CITATION = re.compile(r"section\s+(\d+)\W+(?:[a-z\s]*?\()?items?\s+((?:\d+(?:,\s*|\s+and\s+)?)+)")
DIRECTIVE = re.compile(r"^::: ([\w.]+)\n(?:    .*\n)*?(?:      members: \[(.*)\]\n)?", re.MULTILINE)


# 1. the package as installed --------------------------------------------------------------
def link_tree(repo: Path = REPO, tree: Path = TREE) -> Path:
    """Make ``tree/openfactory``: a link to each entry of ``repo/sdk`` and ``testing`` ->
    ``repo/testing``; returns ``tree``. Rebuilt each time, so new modules are picked up."""
    if tree.exists():
        shutil.rmtree(tree)
    package = tree / "openfactory"
    package.mkdir(parents=True)
    for entry in sorted((repo / "sdk").iterdir()):
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "testing").symlink_to(repo / "testing")
    return tree


# Before mkdocstrings' own on_config: its handler reads the tree once pages render.
@event_priority(100)
def on_config(config: Any) -> Any:
    link_tree()
    return config


# 2. what the API reference documents ------------------------------------------------------
def public_names(module_name: str) -> list[str]:
    """The public names of a module: its ``__all__``, else the names its source defines at top
    level without a leading ``_`` (what the ``filters`` of mkdocs.yml let mkdocstrings show)."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    names: list[str] = []
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [name for name in dict.fromkeys(names) if not name.startswith("_")]


def reference_modules(reference: Path = REFERENCE) -> dict[str, str]:
    """Module -> the reference page (file name) that renders it with ``::: module``."""
    return {
        match[1]: page.name
        for page in sorted(reference.glob("*.md"))
        for match in DIRECTIVE.finditer(page.read_text(encoding="utf-8"))
    }


def rendered_names(module_name: str, reference: Path = REFERENCE) -> list[str]:
    """The names the reference renders for ``module_name``: the ``members:`` option of its
    directive if it has one (a module documented mostly elsewhere), else its public names."""
    for page in sorted(reference.glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            if match[1] == module_name and match[2] is not None:
                return [name.strip() for name in match[2].split(",")]
    return public_names(module_name)


def documented_identifiers() -> tuple[set[str], dict[int, str]]:
    """The identifiers the reference renders (``module.name``) and, for the classes and
    functions among them, object id -> the first identifier that documents it.

    A name is rendered when griffe sees it in the module's source: one that a module
    ``__getattr__`` hands out lazily is not, and its page links to where it is documented.
    """
    import griffe

    package = griffe.load("openfactory", search_paths=[str(TREE)], resolve_aliases=False)
    identifiers: set[str] = set()
    by_object: dict[int, str] = {}
    for module_name in reference_modules():
        module = importlib.import_module(module_name)
        relative = module_name.removeprefix("openfactory").removeprefix(".")
        seen = package[relative].members if relative else package.members
        for name in rendered_names(module_name):
            if name not in seen:
                continue
            try:
                value = getattr(module, name, None)
            except ImportError:  # a lazy name whose optional extra is not installed
                value = None
            identifier = f"{module_name}.{name}"
            identifiers.add(identifier)
            if inspect.isclass(value) or inspect.isfunction(value):
                by_object.setdefault(id(value), identifier)
    return identifiers, by_object


# 3. generated sections --------------------------------------------------------------------
def ofa_dev_help(command: str | None) -> str:
    """``ofa-dev [command] --help`` as printed at 96 columns, in a text block."""
    from openfactory.testing.cli import main

    out = io.StringIO()
    with _columns(96), contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main([command, "--help"] if command else ["--help"])
    shown = f"ofa-dev {command} --help" if command else "ofa-dev --help"
    return f"```text\n$ {shown}\n{out.getvalue().rstrip()}\n```"


@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def _literal(test_file: Path, name: str) -> Any:
    """The value of top-level assignment ``name`` in ``test_file`` (a literal)."""
    for node in ast.parse(test_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise PluginError(f"{test_file} has no literal {name} to document: update docs/hooks")


def compat_module_paths(_arg: str | None) -> str:
    """A table of the platform library's module paths that ``tests/compat`` imports, each name
    linked to the reference page that documents it."""
    documented = _literal(COMPAT / "test_s2_module_paths.py", "DOCUMENTED")
    identifiers, by_object = documented_identifiers()
    rows = ["| Module | Names (linked to their reference) |", "| --- | --- |"]
    for module_name in sorted(documented):
        module = importlib.import_module(module_name)
        cells = []
        for name in documented[module_name]:
            value = getattr(module, name)
            target = f"{module_name}.{name}"
            if target not in identifiers:
                target = by_object.get(id(value), "") if callable(value) else ""
            cells.append(f"[`{name}`][{target}]" if target else f"`{name}`")
        rows.append(f"| `{module_name}` | {', '.join(cells)} |")
    return "\n".join(rows)


def _section(test_file: Path) -> str:
    match = re.match(r"test_s(\d+)(?:_(\d+))?_(\w+)", test_file.stem)
    if not match:
        return test_file.stem
    number = ".".join(part for part in match.groups()[:2] if part)
    return f"Section {number}: {match.group(3).replace('_', ' ')}"


def compat_checks(_arg: str | None) -> str:
    """Every test of ``tests/compat``, by reference section, with its module's docstring."""
    blocks = []
    for test_file in sorted(COMPAT.glob("test_*.py"), key=_section_order):
        tree = ast.parse(test_file.read_text(encoding="utf-8"))
        summary = " ".join((ast.get_docstring(tree) or "").split())
        tests = [
            node.name.removeprefix("test_").replace("_", " ")
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        ]
        lines = "\n".join(f"    - {test}" for test in tests)
        blocks.append(
            f'??? success "{_section(test_file)}: {len(tests)} checks '
            f'(`tests/compat/{test_file.name}`)"\n    {summary}\n\n{lines}'
        )
    return "\n\n".join(blocks)


def _section_order(test_file: Path) -> tuple[int, int, str]:
    match = re.match(r"test_s(\d+)(?:_(\d+))?_", test_file.stem)
    if not match:
        return (1000, 0, test_file.stem)
    return (int(match.group(1)), int(match.group(2) or 0), test_file.stem)


def citations(tests: Path = REPO / "tests") -> dict[tuple[int, int], list[str]]:
    """(section, item) of the reference -> the test files that cite it, by path under tests/."""
    cited: dict[tuple[int, int], list[str]] = {}
    for test_file in sorted(tests.rglob("*.py")):
        text = test_file.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            for item in re.findall(r"\d+", match[2]):
                files = cited.setdefault((int(match[1]), int(item)), [])
                name = test_file.relative_to(tests).as_posix()
                if name not in files:
                    files.append(name)
    return cited


def checked_by(section: str, item: str, cited: dict[tuple[int, int], list[str]]) -> str:
    """The test files citing an item of the reference, or a dash."""
    files = cited.get((int(section), int(item)), [])
    return ", ".join(f"`{name}`" for name in files) if files else "—"


GENERATORS: dict[str, Callable[[str | None], str]] = {
    "ofa-dev-help": ofa_dev_help,
    "compat-module-paths": compat_module_paths,
    "compat-checks": compat_checks,
}


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    def generate(match: re.Match[str]) -> str:
        generator = GENERATORS.get(match.group(1))
        if generator is None:
            raise PluginError(
                f"{page.file.src_path}: unknown generated section {match.group(1)!r} "
                f"(known: {', '.join(GENERATORS)})"
            )
        return generator(match.group(2))

    markdown = MARKER.sub(generate, markdown)
    if INLINE.search(markdown):
        cited = citations()
        markdown = INLINE.sub(lambda m: checked_by(m[1], m[2], cited), markdown)
    return markdown
