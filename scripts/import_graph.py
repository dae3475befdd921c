"""Print the import graph of `openfactory` between packages: the packages, the arrows between
them, the cycles, and the imports that run up against the layers of pyproject.toml.

Usage: .venv/bin/python scripts/import_graph.py [REPO] [--no-type-checking]

REPO (default: this repository) is read through a link tree laid out as installed (see
link_tree.sh), so a checkout of another commit can be measured with this script. Imports
inside functions count; those under `if TYPE_CHECKING:` too, unless --no-type-checking.

A package here is a folder: a module belongs to the package that holds it, except the
modules directly under `openfactory/` (errors, backends...), each its own. The floors are
the layers of the `layers` contract in pyproject.toml, top first; a package sits on the
highest floor of a layer it holds or is held by.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import grimp

ROOT = "openfactory"
HERE = Path(__file__).resolve().parent


def floors(pyproject: Path) -> list[set[str]]:
    """The module names of each layer of the layers contract, top layer first."""
    config = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["type"] == "layers")
    containers = contract.get("containers", [])
    layers = []
    for layer in contract["layers"]:
        names = {n.strip().strip("()") for n in layer.replace(":", "|").split("|")}
        layers.append({f"{c}.{n}" for n in names for c in containers} if containers else names)
    return layers


def package_of(module: str, packages: set[str]) -> str:
    """The package a module is counted in (see the module docs)."""
    if module in packages or module.count(".") <= 1:
        return module
    return module.rsplit(".", 1)[0]


def floor_of(package: str, layers: list[set[str]]) -> int | None:
    for index, layer in enumerate(layers):
        for name in layer:
            if name == package or name.startswith(package + ".") or package.startswith(name + "."):
                return index
    return None


def cycles(arrows: set[tuple[str, str]]) -> list[list[str]]:
    """Every elementary cycle of a small directed graph, each from its smallest node."""
    following = defaultdict(list)
    for a, b in sorted(arrows):
        following[a].append(b)
    found = []

    def walk(start: str, path: list[str]) -> None:
        for nxt in following[path[-1]]:
            if nxt == start:
                found.append(list(path))
            elif nxt > start and nxt not in path:
                walk(start, [*path, nxt])

    for start in sorted(following):
        walk(start, [start])
    return found


def module_loops(graph: grimp.ImportGraph, modules: set[str]) -> list[set[str]]:
    """Groups of two or more modules that import each other, directly or through others."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = iter(range(10**9))

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v) & modules:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    sys.setrecursionlimit(10_000)
    for v in sorted(modules):
        if v not in index:
            connect(v)
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", nargs="?", default=str(HERE.parent))
    parser.add_argument("--no-type-checking", action="store_true")
    args = parser.parse_args()
    tree = subprocess.run(
        [str(HERE / "link_tree.sh"), args.repo], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        sys.path.insert(0, tree)
        graph = grimp.build_graph(
            ROOT, cache_dir=None, exclude_type_checking_imports=args.no_type_checking
        )
    finally:
        shutil.rmtree(tree)
    modules = {m for m in graph.modules if m == ROOT or m.startswith(ROOT + ".")}
    packages = {m for m in modules if any(o.startswith(m + ".") for o in modules)}
    layers = floors(HERE.parent / "pyproject.toml")
    arrows: Counter[tuple[str, str]] = Counter()
    upward = []
    for importer in sorted(modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & modules):
            a, b = package_of(importer, packages), package_of(imported, packages)
            if a == b or ROOT in (a, b):
                continue  # the root package only re-exports errors and the version
            arrows[(a, b)] += 1
            fa, fb = floor_of(a, layers), floor_of(b, layers)
            if fa is not None and fb is not None and fa > fb:
                lines = [
                    d["line_number"]
                    for d in graph.get_import_details(importer=importer, imported=imported)
                ]
                upward.append(f"{importer} -> {imported} (line {', '.join(map(str, lines))})")
    nodes = sorted(
        {n for arrow in arrows for n in arrow},
        key=lambda n: (floor_of(n, layers) if floor_of(n, layers) is not None else len(layers), n),
    )
    print(f"packages ({len(nodes)}), top floor first:")
    for node in nodes:
        count = sum(1 for m in modules if package_of(m, packages) == node)
        print(f"  floor {floor_of(node, layers)}: {node} ({count} modules)")
    print(f"arrows ({len(arrows)}), importer -> imported (imports):")
    for (a, b), n in sorted(arrows.items()):
        print(f"  {a} -> {b} ({n})")
    package_cycles = cycles(set(arrows))
    print(f"import cycles between packages: {len(package_cycles)}")
    for cycle in package_cycles:
        print("  " + " -> ".join([*cycle, cycle[0]]))
    loops = module_loops(graph, modules)
    print(f"module loops (modules importing each other): {len(loops)}")
    for loop in loops:
        print(f"  {len(loop)} modules: {', '.join(sorted(loop))}")
    print(f"imports running up the floors: {len(upward)}")
    for line in upward:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
