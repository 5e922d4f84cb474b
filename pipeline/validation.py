"""Validate a set of app folders: schema, per-app policy and cross-app checks, in one report."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from catalog.problems import Problem
from pipeline.appset import AppFolder, display_path, load_app_folders
from pipeline.icons import icon_file_problem
from pipeline.policy import check_all
from pipeline.policy_rules import problem_order


@dataclass
class ValidationReport:
    apps: list[AppFolder] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def failed_files(self) -> set[str]:
        return {problem.file for problem in self.errors}

    def as_json(self) -> dict[str, Any]:
        failed = self.failed_files()
        return {
            "ok": self.ok,
            "apps": [
                {
                    "id": app.app_id,
                    "version": app.source.manifest.version,
                    "revision": app.source.manifest.revision,
                    "containers": [member.name for member in app.source.manifest.containers],
                    "file": app.source.filename,
                    "ok": app.source.filename not in failed,
                }
                for app in self.apps
            ],
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [problem.as_json() for problem in self.problems],
        }


def icon_problems(apps: list[AppFolder], *, publishing: bool) -> list[Problem]:
    """The build's icon check (``pipeline.icons``), reported at the manifest's ``icon`` field.

    An error when publishing (the production build refuses the app), a warning
    otherwise (the dev build leaves the icon out), as the build does.
    """
    problems = []
    for app in apps:
        icon = app.source.manifest.icon
        message = icon_file_problem(app.path / icon, display_path(app.path / icon))
        if message is not None:
            problem = app.source.problem(("icon",), message)
            problems.append(problem if publishing else replace(problem, severity="warning"))
    return problems


def validate_paths(paths: list[Path], require_digests: bool = False) -> ValidationReport:
    """Load every app under ``paths`` and run every check; never stops at the first problem.

    The checks are those the catalog build makes of a manifest: schema, policy
    (with the runtime spec that rendering uses), cross-app rules, the icon.
    """
    apps, problems = load_app_folders(paths)
    problems.extend(check_all([app.source for app in apps], require_digests=require_digests))
    problems.extend(icon_problems(apps, publishing=require_digests))
    return ValidationReport(apps=apps, problems=sorted(problems, key=problem_order))
