"""The policy cases under ``cases/``: which files go together and what each should report.

A case is one manifest (``P003-fail-outside-data-dir.yml``) or, for rules only
a catalog shows, a group of manifests checked together
(``P006-fail-crossapp-a.yml`` + ``-b.yml``).  The lines a user should see
flagged carry a trailing comment ``# expect P003 containers[0].volumes[0].host_path``
(and ``warning`` when the problem does not refuse the app), so the expected
line numbers are where the markers are and never go stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from catalog.loader import ManifestSource, parse_manifest_source
from catalog.problems import Problem

CASES_DIR = Path(__file__).parent / "cases"
EXPECT = re.compile(r"expect (P\d{3}) (\S+)(?: (warning))?")
GROUP_MEMBER = re.compile(r"^(?P<group>.+-crossapp(?:-[a-z0-9-]+?)?)-(?P<member>[a-z])$")

# (file, line, field, rule, severity): what a user reads, minus the wording.
Seen = tuple[str, int | None, str, str | None, str]


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[Path, ...]

    @property
    def rule(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def fails(self) -> bool:
        return "-fail" in self.name

    def sources(self) -> list[ManifestSource]:
        return [load_case_file(path) for path in self.files]

    def expected(self) -> list[Seen]:
        """What the ``# expect`` markers in this case's files announce."""
        found: list[Seen] = []
        for path in self.files:
            found.extend(expected_in(path.read_text(encoding="utf-8"), f"cases/{path.name}"))
        return sorted(found, key=repr)


def load_case_file(path: Path) -> ManifestSource:
    return parse_manifest_source(path.read_bytes(), f"cases/{path.name}")


def expected_in(text: str, filename: str) -> list[Seen]:
    """The problems the ``# expect`` markers in ``text`` announce."""
    found: list[Seen] = []
    for number, line in enumerate(text.splitlines(), start=1):
        comment = line.partition("#")[2]
        for rule, field, severity in EXPECT.findall(comment):
            found.append((filename, number, field, rule, severity or "error"))
    return sorted(found, key=repr)


def seen(problems: list[Problem]) -> list[Seen]:
    return sorted(
        ((p.file, p.line, p.field, p.rule, p.severity) for p in problems),
        key=repr,
    )


def all_cases() -> list[Case]:
    groups: dict[str, list[Path]] = {}
    for path in sorted(CASES_DIR.glob("*.yml")):
        match = GROUP_MEMBER.match(path.stem)
        groups.setdefault(match.group("group") if match else path.stem, []).append(path)
    return [Case(name, tuple(files)) for name, files in sorted(groups.items())]


DIGEST = "@sha256:" + "4f" * 32


def manifest_text(app_id: str, rest: str, version: str = "1.0.0") -> str:
    """A manifest for tests written in code: the identity fields, then ``rest`` as given."""
    return (
        f"schema: 1\nid: {app_id}\nname: Policy case {app_id}\nversion: {version!r}\n"
        "revision: 1\nsummary: A policy test case\ndescription: Written in a test.\n"
        f"category: developer\nlicense: MIT\nhomepage: https://example.org/{app_id}\n"
        f"source: https://example.org/{app_id}/src\narchitectures: [amd64]\n{rest}"
    )


def source_of(text: str, filename: str) -> ManifestSource:
    return parse_manifest_source(text.encode(), filename)
