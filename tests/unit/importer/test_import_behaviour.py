"""What a user sees from ``archy import``: overwrites, whole-store runs, clashes, usage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipeline.validation import validate_paths
from tests.unit.importer.harness import FIXTURES, archy, fresh_target, import_app, listing


def test_an_existing_app_is_refused_without_force_and_replaced_with_it(tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    first = import_app("umbrel", "notes-single", apps)
    assert first.exit_code == 0
    (apps / "notes-single" / "manifest.yml").write_text("# edited by hand\n")
    before = listing(apps)
    again = import_app("umbrel", "notes-single", apps)
    assert again.exit_code == 1
    (app,) = again.summary["apps"]
    assert app["status"] == "refused"
    assert [reason["code"] for reason in app["reasons"]] == ["I010"]
    assert "exists; use --force to replace it" in app["reasons"][0]["message"]
    assert listing(apps) == before
    forced = import_app("umbrel", "notes-single", apps, "--force")
    assert forced.exit_code == 0
    assert (apps / "notes-single" / "manifest.yml").read_text().startswith("# Imported from")
    assert not [p for p in apps.iterdir() if p.name.startswith(".import")]
    assert validate_paths([apps]).ok


def test_the_local_svg_icon_is_copied(tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    assert import_app("umbrel", "notes-single", apps).exit_code == 0
    source = FIXTURES / "umbrel" / "notes-single" / "icon.svg"
    assert (apps / "notes-single" / "icon.svg").read_bytes() == source.read_bytes()


def test_a_whole_store_run_counts_reasons_and_leaves_a_valid_apps_dir(tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    code, out, err = archy(
        "import",
        "umbrel",
        "--all",
        "tests/unit/importer/fixtures/umbrel",
        "--apps-dir",
        str(apps),
        "--json",
    )
    assert code == 1  # some apps are refused
    assert "Traceback" not in err
    summary = json.loads(out)
    statuses = {app["id"]: app["status"] for app in summary["apps"]}
    assert statuses == {
        "alias-bomb": "refused",
        "blockview": "warnings",
        "broken-yaml": "refused",
        "btc-explorer": "warnings",
        "built-here": "refused",
        "docker-panel": "refused",
        "downloader": "refused",
        "host-net": "refused",
        "lnview": "warnings",
        "moving-tag": "refused",
        "notes-single": "warnings",
        "odd-syntax": "warnings",
        "onion-chat": "warnings",
        "priv-box": "refused",
        "radio-bridge": "refused",
        "wiki-url": "refused",
    }
    assert summary["counts"] == {"imported": 0, "warnings": 6, "refused": 10}
    by_code = summary["reasons_by_code"]
    for code_id in ("P001", "P002", "P004", "P005", "P012", "I003", "I005"):
        assert by_code[code_id]["refused_apps"] == 1, code_id
    assert by_code["I001"]["refused_apps"] == 2
    assert summary["apps_dir_valid"] is True
    assert summary["apps_dir_problems"] == []
    written = sorted(p.name for p in apps.iterdir())
    assert written == sorted(
        [
            "bitcoin-core",
            "lnd",
            "electrs",
            "tor",
            "thunderhub",
            "blockview",
            "btc-explorer",
            "lnview",
            "notes-single",
            "odd-syntax",
            "onion-chat",
        ]
    )
    # then the CasaOS store into the same apps/: still one valid catalog
    code, out, _ = archy(
        "import",
        "casaos",
        "--all",
        "tests/unit/importer/fixtures/casaos",
        "--apps-dir",
        str(apps),
        "--json",
    )
    assert json.loads(out)["apps_dir_valid"] is True
    assert validate_paths([apps]).ok


def _casaos_app(folder: Path, name: str, port: int) -> None:
    folder.mkdir(parents=True)
    (folder / "docker-compose.yml").write_text(
        f"""name: {name}
services:
  web:
    image: example/{name}:1.0.0
    ports:
      - "{port}:80"
x-casaos:
  architectures: [amd64]
  main: web
  category: Media
  title: {{en_us: {name}}}
  port_map: "{port}"
  website: https://example.org/{name}
"""
    )


def test_two_apps_of_one_run_asking_for_one_port_get_different_ones(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _casaos_app(store / "first", "first-app", 8800)
    _casaos_app(store / "second", "second-app", 8800)
    apps = fresh_target(tmp_path)
    code, out, _ = archy("import", "casaos", "--all", str(store), "--apps-dir", str(apps), "--json")
    assert code == 0
    summary = json.loads(out)
    second = summary["apps"][1]
    assert second["id"] == "second-app"
    assert any(
        "host port 8800/tcp is used by 'first-app'; published on 8801 instead" in r["message"]
        for r in second["reasons"]
    )
    assert "host: 8801" in (apps / "second-app" / "manifest.yml").read_text()
    assert validate_paths([apps]).ok


def test_people_read_one_line_per_problem_and_a_table(tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    code, out, err = archy(
        "import", "umbrel", "tests/unit/importer/fixtures/umbrel/priv-box", "--apps-dir", str(apps)
    )
    assert code == 1
    assert (
        "priv-box: refused: tests/unit/importer/fixtures/umbrel/priv-box/docker-compose.yml:10: "
        "containers[0].privileged: privileged containers are never allowed;" in err
    )
    assert "Traceback" not in err
    assert "priv-box" in out and "refused" in out and "P001" in out


def test_a_symlinked_compose_file_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "linked"
    shutil.copytree(FIXTURES / "umbrel" / "notes-single", folder)
    (folder / "docker-compose.yml").unlink()
    os.symlink("/etc/hostname", folder / "docker-compose.yml")
    apps = fresh_target(tmp_path)
    code, out, err = archy("import", "umbrel", str(folder), "--apps-dir", str(apps), "--json")
    assert code == 1
    assert "Traceback" not in err
    (app,) = json.loads(out)["apps"]
    assert app["reasons"] == [
        {
            "code": "I001",
            "message": f"{folder}/docker-compose.yml: docker-compose.yml is a symlink; the "
            "importer reads only plain files (I001)",
        }
    ]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert archy("import", "umbrel")[0] == 2
    both = archy("import", "casaos", str(tmp_path), "--all", str(tmp_path))
    assert both[0] == 2
    assert archy("import", "casaos", "--help")[0] == 0


def test_an_app_named_after_a_provided_capability_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "bitcoin"
    shutil.copytree(FIXTURES / "umbrel" / "notes-single", folder)
    meta = folder / "umbrel-app.yml"
    meta.write_text(meta.read_text().replace("id: notes-single", "id: bitcoin"))
    compose = folder / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("notes-single_web_1", "bitcoin_web_1"))
    apps = fresh_target(tmp_path)
    before = listing(apps)
    code, out, _ = archy("import", "umbrel", str(folder), "--apps-dir", str(apps), "--json")
    assert code == 1
    (app,) = json.loads(out)["apps"]
    assert app["reasons"] == [
        {
            "code": "P016",
            "message": f"{folder}/umbrel-app.yml:2: app id 'bitcoin' is a capability that "
            "bitcoin-core provide; an imported app needs an id of its own (the store's own "
            "node apps are provided here already) (P016)",
        }
    ]
    assert listing(apps) == before


def test_an_svg_icon_with_a_script_is_not_copied(tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    outcome = import_app("umbrel", "onion-chat", apps)
    assert outcome.exit_code == 0
    assert (FIXTURES / "umbrel" / "onion-chat" / "icon.svg").exists()
    assert not (apps / "onion-chat" / "icon.svg").exists()
    (app,) = outcome.summary["apps"]
    assert any("no local SVG icon" in reason["message"] for reason in app["reasons"])


def test_an_env_file_through_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "sneaky"
    shutil.copytree(FIXTURES / "umbrel" / "odd-syntax", folder)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "worker.env").write_text("STOLEN=1\n")
    os.symlink(outside, folder / "conf")
    compose = folder / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("- worker.env", "- conf/worker.env"))
    apps = fresh_target(tmp_path)
    before = listing(apps)
    code, out, _ = archy("import", "umbrel", str(folder), "--apps-dir", str(apps), "--json")
    assert code == 1
    (app,) = json.loads(out)["apps"]
    assert app["reasons"] == [
        {
            "code": "I001",
            "message": f"{folder}/docker-compose.yml:35: conf/worker.env is outside the app "
            "folder (through a symlink) (I001)",
        }
    ]
    assert listing(apps) == before
