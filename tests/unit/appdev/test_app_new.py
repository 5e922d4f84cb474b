"""``archy app new``: every template is valid as generated; bad ids and taken ids are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.appdev.scaffold import FIRST_HOST_PORT, TEMPLATES
from pipeline.cli import main
from pipeline.validation import validate_paths

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_passes_validation_beside_the_real_app_set(
    template: str, tmp_path: Path
) -> None:
    apps = tmp_path / "apps"
    shutil.copytree(REPO / "apps", apps)
    code, stdout, stderr = run("app", "new", "demo-app", "--template", template,
                               "--apps-dir", str(apps))  # fmt: skip
    assert (code, stderr) == (0, "")
    assert f"wrote {apps / 'demo-app/manifest.yml'}" in stdout
    report = validate_paths([apps])
    assert report.errors == []
    ours = [p for p in report.warnings if "demo-app" in p.file]
    assert {p.rule for p in ours} <= {"P015"}  # only: pin the digests before publishing


def test_web_db_validates_on_its_own_as_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("app", "new", "demo-notes", "--template", "web+db")[0] == 0
    code, stdout, _ = run("validate", "apps/demo-notes")
    assert code == 0
    assert "1 apps checked: 0 errors" in stdout
    manifest = (tmp_path / "apps/demo-notes/manifest.yml").read_text()
    assert "{secret: db-password}" in manifest and "depends_on: [demo-notes-db]" in manifest
    assert (tmp_path / "apps/demo-notes/icon.svg").read_text().startswith("<svg ")


def test_the_host_port_is_one_no_app_uses(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    assert run("app", "new", "first-app", "--apps-dir", str(apps))[0] == 0
    assert run("app", "new", "second-app", "--apps-dir", str(apps))[0] == 0
    assert f"host: {FIRST_HOST_PORT}," in (apps / "first-app/manifest.yml").read_text()
    assert f"host: {FIRST_HOST_PORT + 1}," in (apps / "second-app/manifest.yml").read_text()
    assert validate_paths([apps]).errors == []


def test_a_companion_context_is_added_and_valid(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    assert run("app", "new", "with-ui", "--companion", "--apps-dir", str(apps))[0] == 0
    assert (apps / "with-ui/build/Containerfile").read_text().startswith("# The companion")
    assert "build: {context: build}" in (apps / "with-ui/manifest.yml").read_text()
    assert validate_paths([apps]).errors == []


@pytest.mark.parametrize(
    ("app_id", "message"),
    [
        ("Bad_Id", "error: 'Bad_Id': an app id is 2-40 characters, lowercase letters, digits "
                   "and '-', starting with a letter\n"),
        ("x", "error: 'x': an app id is 2-40 characters, lowercase letters, digits and '-', "
              "starting with a letter\n"),
    ],
)  # fmt: skip
def test_a_malformed_id_is_refused_and_nothing_is_written(
    app_id: str, message: str, tmp_path: Path
) -> None:
    code, _, stderr = run("app", "new", app_id, "--apps-dir", str(tmp_path / "apps"))
    assert (code, stderr) == (1, message)
    assert not (tmp_path / "apps").exists()


def test_a_taken_id_is_refused_and_the_folder_left_alone(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    assert run("app", "new", "mine", "--apps-dir", str(apps))[0] == 0
    (apps / "mine/manifest.yml").write_text("my edits\n")
    code, _, stderr = run("app", "new", "mine", "--template", "bitcoin", "--apps-dir", str(apps))
    assert (code, stderr) == (1, f"error: {apps / 'mine'}: already exists; choose another id "
                                 "or remove it\n")  # fmt: skip
    assert (apps / "mine/manifest.yml").read_text() == "my edits\n"


def test_an_unknown_template_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = run("app", "new", "demo", "--template", "php", "--apps-dir", str(tmp_path))
    assert code == 2
    assert "'php' is not one of 'web', 'web+db', 'bitcoin'" in stderr
