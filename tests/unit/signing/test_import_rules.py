"""The import rules that catalog/__init__.py and signing/__init__.py state, read from the code.

``catalog`` imports nothing of the project outside itself; ``signing`` imports only
``catalog`` of the project.  Read with ``ast`` (every ``import`` and ``from … import``,
at any depth, including those under ``TYPE_CHECKING``), not by grepping text.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROJECT_PACKAGES = {"catalog", "signing", "pipeline", "node_runtime", "tests", "bench"}


def project_imports(package: str) -> set[tuple[str, str]]:
    """(file, top-level project package) for every import in ``package``'s modules."""
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in PROJECT_PACKAGES:
                    found.add((str(path.relative_to(ROOT)), top))
    return found


@pytest.mark.parametrize(
    ("package", "allowed"), [("catalog", {"catalog"}), ("signing", {"signing", "catalog"})]
)
def test_a_package_imports_only_the_project_packages_its_docstring_allows(
    package: str, allowed: set[str]
) -> None:
    assert project_imports(package), "the walk found no imports at all"
    assert sorted((f, top) for f, top in project_imports(package) if top not in allowed) == []
