"""The catalog spliced from cached per-app parts is byte for byte a cold build's catalog."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from catalog.catalog_model import parse_catalog
from pipeline.build_cache import cache_key, entry_mac
from pipeline.build_types import BuildOptions, BuildRefused, BuildResult
from pipeline.catalog_build import build_catalog
from tests.support.apprepo import AppRepo

SUMMARIES = [
    "A demo web app",
    "Ünïcödé summary ✓",
    "Music 𝄞 beyond the BMP",
    'Quotes "and" back\\slashes',
    "Tab\tinside",
]


def incremental(source: AppRepo, out: Path, cache: Path) -> BuildResult:
    previous = out / "app-catalog.json"
    return build_catalog(
        BuildOptions(
            repo=source.path,
            out_dir=out,
            cache_dir=cache,
            previous=previous if previous.exists() else None,
        )
    )


def cold(source: AppRepo, out: Path) -> bytes:
    shutil.rmtree(out, ignore_errors=True)
    return build_catalog(BuildOptions(repo=source.path, out_dir=out)).catalog_bytes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_give_a_cold_builds_bytes(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    source = AppRepo(tmp_path / "repo")
    apps: dict[str, dict[str, object]] = {}
    next_port = 18080
    for step in range(5):
        for _ in range(rng.randint(1, 3)):
            action = rng.choice(["add", "edit", "edit", "remove", "icon"]) if apps else "add"
            if action == "add":
                app_id = f"app-{rng.choice('abcxyz')}{rng.randint(0, 99)}"
                if app_id in apps:
                    continue
                apps[app_id] = {"port": next_port, "revision": 1}
                next_port += 1
                source.add_app(app_id, **apps[app_id])  # type: ignore[arg-type]
                continue
            app_id = rng.choice(sorted(apps))
            fields = apps[app_id]
            if action == "remove":
                shutil.rmtree(source.path / "apps" / app_id)
                del apps[app_id]
                continue
            fields["revision"] = int(fields["revision"]) + 1  # type: ignore[call-overload]
            if action == "edit":
                fields["summary"] = rng.choice(SUMMARIES)
                source.add_app(app_id, **fields)  # type: ignore[arg-type]
            else:
                source.add_app(app_id, **fields)  # type: ignore[arg-type]
                source.write(f"apps/{app_id}/icon.svg", f"<svg><g id='{step}'/></svg>\n")
        source.commit(f"step {step}")

        built = incremental(source, tmp_path / "out", tmp_path / "cache")

        expected = cold(source, tmp_path / "cold")
        assert built.catalog_bytes == expected
        assert parse_catalog(expected).to_canonical() == expected
        assert sorted(parse_catalog(expected).apps) == sorted(apps)


def test_a_poisoned_entry_part_cannot_change_the_catalog(tmp_path: Path) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.add_app("demo-two", port=18081)
    source.commit("two apps")
    cache = tmp_path / "cache"
    first = incremental(source, tmp_path / "first", cache)
    parts = sorted((cache / "entry-parts").glob("*.json"))
    assert len(parts) == 2
    for path in parts:
        header, value = path.read_bytes().split(b"\n", 1)
        path.write_bytes(header + b"\n" + value.replace(b"A demo web app", b"Poisoned app"))

    again = incremental(source, tmp_path / "again", cache)

    assert again.catalog_bytes == first.catalog_bytes
    assert b"Poisoned" not in again.catalog_bytes


def test_a_forged_checked_verdict_does_not_skip_the_previous_catalogs_checks(
    tmp_path: Path,
) -> None:
    """Someone without the secret marks a broken previous catalog as checked: it is parsed."""
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.commit("one app")
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    incremental(source, out, cache)
    previous = out / "app-catalog.json"
    previous.write_bytes(previous.read_bytes().replace(b'"revision":1', b'"revision":9', 1))
    for path in (cache / "checked-catalogs").glob("*.json"):
        path.unlink()
    key = cache_key("checked-catalog", blake3_hex(previous.read_bytes()).encode())
    forged = cache / "checked-catalogs" / f"{key}.json"
    forged.write_bytes(f"{key} {entry_mac(b'x' * 32, key, b'true')}\ntrue".encode())
    source.add_app("demo-one", revision=2)
    source.commit("bump")

    with pytest.raises(BuildRefused) as refused:
        incremental(source, out, cache)

    assert refused.value.problems == [
        f"previous catalog {previous}: apps.demo-one: Value error, version 1.0.0-r1 differs "
        "from the manifest's 1.0.0-r9"
    ]
