"""A missing real part fails the run; it is never skipped into a green CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.realparts import REPO_ROOT
from tests.realparts.required import require_or_skip, require_tool

# a skip decided by whether a program is on PATH: the pattern that hid missing parts
SKIP_ON_TOOL = re.compile(r"skip(if)?\([^)]*(shutil\.which|chromium_binary)", re.DOTALL)


def test_a_missing_tool_is_a_failure_not_a_skip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a runner that lost podman
    with pytest.raises(pytest.fail.Exception, match=r"^real part missing: podman is not installed"):
        require_tool("podman")


def test_a_present_tool_is_found_under_any_of_its_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tool = tmp_path / "chromium-browser"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert require_tool("chromium", "chromium-browser") == str(tool)


def test_a_part_only_some_machines_have_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        require_or_skip(False, "needs root")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^real part missing in CI: needs root$"):
        require_or_skip(False, "needs root")
    require_or_skip(True, "needs root")  # present: neither


def test_no_test_skips_because_a_program_is_missing() -> None:
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / "tests").rglob("*.py"))
        if path.name != "test_realparts_required.py" and SKIP_ON_TOOL.search(path.read_text())
    ]
    assert offenders == [], "use tests.realparts.required.require_tool instead of a skip"
