"""The layout's rules, read from the source's imports (docs/architecture.md):

* imports flow one way: ``catalog`` and ``signing`` below, ``pipeline`` and ``node_runtime``
  above, and the two programs never import each other;
* no import cycle between modules, nor between packages;
* the node agent reaches no boto3, GitPython or jinja2 through any import chain;
* no module over 500 lines, and every package says in its docstring what it holds.

Imports are read with ``ast`` (module level and inside functions alike), so a lazy import
counts: what a module may import does not depend on when it does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("catalog", "signing", "pipeline", "node_runtime")
ALLOWED = {
    "catalog": set(),
    "signing": {"catalog"},
    "pipeline": {"catalog", "signing"},
    "node_runtime": {"catalog", "signing"},
}
PUBLISHER_ONLY = {"boto3", "botocore", "s3transfer", "git", "gitdb", "jinja2"}
MAX_LINES = 500

# the node's stages: which sibling packages each may import (docs/architecture.md)
NODE_STAGES = {
    "node_runtime.store": set(),
    "node_runtime.plan": {"node_runtime.store"},
    "node_runtime.engines": {"node_runtime.plan", "node_runtime.store"},
    "node_runtime.apply": {"node_runtime.engines", "node_runtime.plan", "node_runtime.store"},
    "node_runtime.fetch": {"node_runtime.store"},
    "node_runtime.seed": {"node_runtime.fetch", "node_runtime.store"},
    "node_runtime.market": {"node_runtime.fetch", "node_runtime.store"},
    "node_runtime.registries": {
        "node_runtime.apply",
        "node_runtime.fetch",
        "node_runtime.market",
        "node_runtime.plan",
        "node_runtime.store",
    },
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _imported_names(path: Path) -> Iterator[str]:
    """Every absolute module name ``path`` imports, and ``a.b.c`` for ``from a.b import c``."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                keep = len(base) - node.level + (1 if is_package else 0)
                prefix = ".".join(base[:keep])
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


@cache
def _graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imported in _imported_names(path):
            if imported in modules and imported != name:
                edges.add(imported)
        graph[name] = edges
    return graph


@cache
def _external(name: str) -> frozenset[str]:
    """Top-level names of third-party modules ``name`` imports."""
    tops = {imported.split(".")[0] for imported in _imported_names(_modules()[name])}
    return frozenset(tops - set(PACKAGES))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _package_of(module: str) -> str:
    """The package a module lives in (``node_runtime.fetch.http`` -> ``node_runtime.fetch``);
    a package's ``__init__`` belongs to the package itself."""
    path = _modules()[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    wrong = sorted(
        f"{name} imports {imported}"
        for name, edges in _graph().items()
        if name.split(".")[0] == package
        for imported in edges
        if imported.split(".")[0] not in ALLOWED[package] | {package}
    )
    assert wrong == []


def test_each_node_stage_imports_only_the_stages_below_it() -> None:
    wrong = sorted(
        f"{name} imports {imported}"
        for name, edges in _graph().items()
        if (stage := _package_of(name)) in NODE_STAGES
        for imported in edges
        if imported.startswith("node_runtime.")
        and (target := _package_of(imported)) != stage
        and target not in NODE_STAGES[stage]
    )
    assert wrong == []


def test_no_module_takes_part_in_an_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_package_takes_part_in_an_import_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for name, edges in _graph().items():
        source = _package_of(name)
        packages.setdefault(source, set())
        for imported in edges:
            target = _package_of(imported)
            # a package's parent holds the package: a child importing its parent's
            # __init__ is not an edge between sibling stages
            if target != source and not source.startswith(target + "."):
                packages[source].add(target)
    assert _cycles(packages) == []


def test_the_node_agent_reaches_no_publisher_only_library() -> None:
    graph = _graph()
    seen: set[str] = set()
    todo = [name for name in graph if name.split(".")[0] == "node_runtime"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph[name])
    reached = {
        f"{name} imports {library}" for name in seen for library in _external(name) & PUBLISHER_ONLY
    }
    assert sorted(reached) == []
    assert not {name for name in seen if name.split(".")[0] == "pipeline"}


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The rules above are only as good as the reader: it must see an import inside a
    function and resolve a relative one."""
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    sample = package / "mod.py"
    sample.write_text("def f():\n    import boto3\n\nfrom .sibling import thing\n")
    global ROOT
    saved = ROOT
    ROOT = tmp_path
    try:
        names = set(_imported_names(sample))
    finally:
        ROOT = saved
    assert {"boto3", "demo.sibling", "demo.sibling.thing"} <= names


def test_no_module_is_longer_than_500_lines() -> None:
    long = {
        name: count
        for name, path in _modules().items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def test_every_package_says_what_it_holds_and_may_import() -> None:
    silent = [
        name
        for name, path in _modules().items()
        if path.name == "__init__.py" and "import" not in _docstring(path)
    ]
    assert silent == []
