"""``archy storefront build`` and the publish step: what they refuse and what they write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.address import blake3_hex
from pipeline.cli import main
from pipeline.publish.file_origin import FileOrigin
from pipeline.storefront.publish_step import publish_storefront, storefront_order
from pipeline.storefront.verified_repository import (
    StorefrontSourceError,
    read_verified_repository,
)
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

HOSTILE = '<script>alert(1)</script><img src="http://127.0.0.2/x">'


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    return make_repository(
        tmp_path / "origin",
        {
            "notes": manifest_yaml("notes", host_port=18080),
            "wiki": manifest_yaml("wiki").replace(
                "description: Does very little.", f"description: '{HOSTILE}'"
            ),
        },
    )


def build(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["storefront", "build", *args])
    return result.exit_code, result.stdout, result.stderr


def test_build_writes_a_page_per_app_the_trust_page_and_the_index(
    repository: RepositoryHandle, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    code, stdout, stderr = build("--repo", str(repository.directory), "--out", str(out))
    assert (code, stderr) == (0, "")
    assert f"storefront: 2 apps, 5 pages; open {(out / 'index.html').resolve()}" in stdout
    assert sorted(p.name for p in (out / "store/apps").iterdir()) == ["notes.html", "wiki.html"]
    trust = (out / "store/trust.html").read_text()
    assert blake3_hex(repository.catalog_bytes) in trust
    assert repository.keys["targets"].keyid in trust
    assert "archy-node install notes" in (out / "store/apps/notes.html").read_text()


def test_a_manifest_cannot_inject_markup(repository: RepositoryHandle, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build("--repo", str(repository.directory), "--out", str(out))[0] == 0
    page = (out / "store/apps/wiki.html").read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_tampered_catalog_is_refused_and_nothing_is_written(
    repository: RepositoryHandle, tmp_path: Path
) -> None:
    catalog_file = repository.catalog_file()
    catalog_file.write_bytes(catalog_file.read_bytes().replace(b"very little", b"very lettle"))
    out = tmp_path / "site"
    code, _, stderr = build("--repo", str(repository.directory), "--out", str(out))
    assert code == 1
    assert stderr.startswith(f"error: {catalog_file}: ")
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists()


def test_a_repository_signed_by_another_root_is_refused(
    repository: RepositoryHandle, tmp_path: Path
) -> None:
    other = make_repository(tmp_path / "other", {"notes": manifest_yaml("notes")})
    code, _, stderr = build(
        "--repo", str(repository.directory), "--root", str(other.root_path),
        "--out", str(tmp_path / "site"),
    )  # fmt: skip
    assert code == 1
    assert stderr.startswith(f"error: {repository.directory / 'metadata/timestamp.json'}: ")


def test_an_expired_timestamp_is_refused_as_a_node_would(repository: RepositoryHandle) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(StorefrontSourceError, match="timestamp: expired"):
        read_verified_repository(
            FileOrigin(repository.directory), repository.root_path.read_bytes(), later
        )


def test_no_repository_is_one_line_exit_1(tmp_path: Path) -> None:
    code, _, stderr = build("--repo", str(tmp_path / "nothing"), "--out", str(tmp_path / "s"))
    assert code == 1
    missing = tmp_path / "nothing/metadata/1.root.json"
    assert stderr == f"error: {missing}: missing (is this a published repository?)\n"


def test_an_out_dir_that_is_not_a_storefront_is_left_alone(
    repository: RepositoryHandle, tmp_path: Path
) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    code, _, stderr = build("--repo", str(repository.directory), "--out", str(out))
    assert code == 1
    assert "is not a storefront" in stderr
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]


def test_a_second_build_replaces_the_first(repository: RepositoryHandle, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert build("--repo", str(repository.directory), "--out", str(out))[0] == 0
    repository.publish({"notes": manifest_yaml("notes", version="2.0.0")})
    assert build("--repo", str(repository.directory), "--out", str(out))[0] == 0
    assert sorted(p.name for p in (out / "store/apps").iterdir()) == ["notes.html"]
    assert "2.0.0-r1" in (out / "store/apps/notes.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_the_publish_step_writes_pages_before_the_index(
    repository: RepositoryHandle,
) -> None:
    written: list[str] = []

    class RecordingOrigin(FileOrigin):
        def replace(self, path: str, data: bytes) -> None:
            written.append(path)
            super().replace(path, data)

    origin = RecordingOrigin(repository.directory)
    now = datetime.now(UTC)
    report = publish_storefront(origin, repository.root_path.read_bytes(), now)
    assert written == report.written and written[-1] == "index.html"
    assert written == storefront_order(written)
    assert not any(path.startswith(("metadata/", "targets/")) for path in written)
    again = publish_storefront(origin, repository.root_path.read_bytes(), now)
    assert again.written == [] and sorted(again.skipped) == sorted(written)


def test_build_json_names_the_index_and_the_catalog(
    repository: RepositoryHandle, tmp_path: Path
) -> None:
    import json

    out = tmp_path / "site"
    code, stdout, _ = build("--repo", str(repository.directory), "--out", str(out), "--json")
    assert code == 0
    assert json.loads(stdout) == {
        "apps": 2,
        "catalog_blake3": blake3_hex(repository.catalog_bytes),
        "index": str(out / "index.html"),
        "pages": 5,
        "root_version": 1,
        "trusted_root": str(repository.root_path),
    }
