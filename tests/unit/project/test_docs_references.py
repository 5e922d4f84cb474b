"""The docs name real tests: every ``tests/…py::test_name`` in docs/*.md exists.

A threat-model row that points at a renamed or deleted test would claim a check
nobody runs.  ``::name`` alone refers to the last file named before it (on that line or above).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def references(markdown: Path) -> list[tuple[int, str, str | None]]:
    found: list[tuple[int, str, str | None]] = []
    current: str | None = None
    for number, line in enumerate(markdown.read_text().splitlines(), start=1):
        for match in REFERENCE.finditer(line):
            path, name = match.groups()
            if path:
                current = path
            if path is None and name is None:
                continue
            if current is None:
                raise AssertionError(f"{markdown.name}:{number}: ::{name} names no file")
            found.append((number, current, name))
    return found


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("doc", ["security.md", "node-guard.md"])
def test_every_test_a_doc_names_exists(doc: str) -> None:
    markdown = ROOT / "docs" / doc
    found = references(markdown)
    assert found, f"{doc} names no test"
    missing = []
    for number, path, name in found:
        target = ROOT / path
        if not target.is_file():
            missing.append(f"{doc}:{number}: {path} does not exist")
        elif name is not None and name not in functions_in(target):
            missing.append(f"{doc}:{number}: {path}::{name} does not exist")
    assert missing == []


SOURCE_PATH = re.compile(r"`((?:catalog|signing|pipeline|node_runtime)/[\w/]*?(?:\.py|/))`")


@pytest.mark.parametrize("doc", ["architecture.md", "security.md", "node-guard.md", "design.md"])
def test_every_source_file_a_doc_names_exists(doc: str) -> None:
    """docs/architecture.md answers "where is …" by file name: a moved file must move the
    answer too."""
    text = (ROOT / "docs" / doc).read_text()
    named = SOURCE_PATH.findall(text)
    assert named or doc != "architecture.md"
    assert sorted({path for path in named if not (ROOT / path).exists()}) == []
