"""Bad input is refused with one-line errors, exit 1, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.canonical import encode_canonical_json
from catalog.catalog_model import CatalogError, parse_catalog
from pipeline.build_types import BuildOptions
from pipeline.catalog_build import build_catalog
from pipeline.cli import main
from tests.support.apprepo import AppRepo


def test_an_invalid_manifest_refuses_the_build_and_writes_nothing(tmp_path: Path) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.write("apps/demo-bad/manifest.yml", "schema: 1\nid: demo-bad\nversion: 1\n")
    source.commit("a broken app")
    out = tmp_path / "dist"

    result = CliRunner().invoke(main, ["build", "--repo", str(source.path), "--out", str(out)])

    assert result.exit_code == 1
    assert "apps/demo-bad/manifest.yml:" in result.output
    assert "Traceback" not in result.output
    assert not (out / "app-catalog.json").exists()
    assert not (out / "targets").exists()


def test_a_missing_icon_is_refused_when_publishing(tmp_path: Path) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    (source.path / "apps/demo-one/icon.svg").unlink()
    source.commit("no icon")

    result = CliRunner().invoke(main, ["build", "--repo", str(source.path), "--json",
                                       "--out", str(tmp_path / "dist")])  # fmt: skip

    assert result.exit_code == 1
    assert "apps/demo-one/icon.svg: missing (the manifest's icon)" in result.output


def test_a_corrupt_previous_catalog_is_a_clear_error(tmp_path: Path) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.commit("one app")
    previous = tmp_path / "old.json"
    previous.write_text('{"schema": 1, "apps": 3}')

    result = CliRunner().invoke(main, ["build", "--repo", str(source.path), "--previous",
                                       str(previous), "--out", str(tmp_path / "dist")])  # fmt: skip

    assert result.exit_code == 1
    assert f"previous catalog {previous}: " in result.output


def test_a_tampered_embedded_manifest_fails_its_blake3(tmp_path: Path) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.commit("one app")
    built = build_catalog(BuildOptions(repo=source.path, out_dir=tmp_path / "dist"))
    document = built.catalog.to_document()
    document["apps"]["demo-one"]["manifest"]["summary"] = "Swapped after signing"

    with pytest.raises(CatalogError, match="manifest_blake3 is"):
        parse_catalog(encode_canonical_json(document))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"schema": 1, "schema": 1}', "duplicate key 'schema'"),
        (b'{"schema": 1.5}', "canonical JSON has no floats"),
        (b"[1]", "not a JSON object"),
        (b'{"schema": 2}', "catalog schema is 2"),
        (b"\xff", "not UTF-8"),
    ],
)
def test_parse_catalog_refuses_with_one_line(data: bytes, message: str) -> None:
    with pytest.raises(CatalogError) as refused:
        parse_catalog(data)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
