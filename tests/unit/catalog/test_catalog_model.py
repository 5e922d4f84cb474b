"""``app-catalog.json`` as a node reads it (catalog.catalog_model): the exact document a catalog
writes, what an entry derives (pinned images, target names, the files to fetch), and the one
line ``parse_catalog`` refuses each malformed catalog with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_model import (
    AppImage,
    CatalogError,
    TargetFile,
    manifest_blake3,
    manifest_canonical,
    parse_catalog,
    seed_url_problem,
)
from tests.support.catalogs import EXAMPLE_DID, catalog_app, catalog_of, simple_manifest

H1 = "1" * 64
H2 = "2" * 64
H3 = "3" * 64
DIGEST = "sha256:" + "a" * 64


def document() -> dict[str, Any]:
    """A valid catalog's document: two official apps (demo, web)."""
    catalog = catalog_of([simple_manifest("demo"), simple_manifest("web", port=18081)])
    return catalog.to_document()


def refusal(changed: dict[str, Any] | bytes) -> str:
    data = changed if isinstance(changed, bytes) else encode_canonical_json(changed)
    with pytest.raises(CatalogError) as raised:
        parse_catalog(data)
    return str(raised.value)


def target(path: str, blake3: str, length: int = 10) -> dict[str, Any]:
    return {"target": path, "blake3": blake3, "length": length}


# --- what a catalog writes ---


def test_a_catalog_without_seeds_or_developers_writes_neither_key() -> None:
    written = document()
    assert "seeds" not in written
    assert all("developer" not in app for app in written["apps"].values())
    assert list(written) == ["schema", "source", "dev_build", "apps", "images", "node"]
    assert written["schema"] == 1
    parsed = parse_catalog(encode_canonical_json(written))
    assert parsed.to_canonical() == encode_canonical_json(written)
    assert parsed.to_document() == written


def test_seeds_and_a_third_party_developer_are_written_when_present() -> None:
    seeds = ["http://127.0.0.1:9/targets", "iroh://abc@127.0.0.1:1"]
    official = catalog_of([simple_manifest("demo")])
    third = catalog_app(simple_manifest("notes", port=18500), did=EXAMPLE_DID)
    catalog = official.model_copy(
        update={"apps": {**official.apps, "notes": third}, "seeds": seeds}
    )
    written = catalog.to_document()
    assert written["seeds"] == seeds
    assert written["apps"]["notes"]["developer"] == {"did": EXAMPLE_DID, "signature": "0" * 128}
    assert "developer" not in written["apps"]["demo"]
    parsed = parse_catalog(encode_canonical_json(written))
    assert parsed == catalog
    assert parsed.to_canonical() == encode_canonical_json(written)


def test_the_manifest_hash_covers_the_manifests_canonical_json() -> None:
    manifest = simple_manifest("demo")
    assert manifest_canonical(manifest) == encode_canonical_json(manifest.to_document())
    assert manifest_blake3(manifest) == blake3_hex(encode_canonical_json(manifest.to_document()))
    assert document()["apps"]["demo"]["manifest_blake3"] == manifest_blake3(manifest)


# --- what an entry derives ---


def test_an_image_is_pulled_by_its_digest_when_the_catalog_pinned_one() -> None:
    assert AppImage(member="web", reference="nginx:1.27", digest=None).pinned_reference == (
        "nginx:1.27"
    )
    assert AppImage(member="web", reference="nginx:1.27", digest=DIGEST).pinned_reference == (
        f"nginx:1.27@{DIGEST}"
    )


def test_the_pinned_manifest_runs_each_member_at_its_pinned_digest() -> None:
    app = catalog_app(simple_manifest("demo"))
    pinned = app.model_copy(
        update={"images": [AppImage(member="demo", reference="example/demo:1", digest=DIGEST)]}
    ).pinned_manifest()
    assert [member.image for member in pinned.containers] == [f"example/demo:1@{DIGEST}"]
    # a member the images do not name keeps the manifest's image
    unpinned = app.model_copy(update={"images": []}).pinned_manifest()
    assert [member.image for member in unpinned.containers] == ["localhost/archy-test-busybox:1"]
    assert pinned.id == "demo" and pinned.version == "1.0.0"


def test_a_target_is_named_without_its_hash_prefix() -> None:
    assert TargetFile(target=f"icons/{H1}.demo.svg", blake3=H1, length=1).name == "icons/demo.svg"
    assert TargetFile(target=f"{H1}.archy-node", blake3=H1, length=1).name == "archy-node"
    assert TargetFile(target=f"images/{H1}.a.b.tar", blake3=H1, length=1).name == "images/a.b.tar"


def test_every_target_the_catalog_refers_to_in_path_order() -> None:
    written = document()
    written["apps"]["web"]["icon"] = target(f"icons/{H2}.web.svg", H2)
    written["apps"]["demo"]["icon"] = target(f"icons/{H3}.demo.svg", H3)
    written["apps"]["demo"]["companions"] = [
        {"member": "demo", "image": "localhost/demo:1", "context_blake3": H1,
         "image_id": H1, "archive": target(f"images/{H1}.demo.tar", H1), "local_override": False},
        {"member": "demo", "image": "localhost/demo:local", "context_blake3": H1,
         "image_id": None, "archive": None, "local_override": True},
    ]  # fmt: skip
    written["node"] = {"linux-amd64": target(f"node/{H1}.archy-node", H1)}
    catalog = parse_catalog(encode_canonical_json(written))
    assert [each.target for each in catalog.targets()] == [
        f"icons/{H2}.web.svg",
        f"icons/{H3}.demo.svg",
        f"images/{H1}.demo.tar",
        f"node/{H1}.archy-node",
    ]
    assert parse_catalog(encode_canonical_json(document())).targets() == []


# --- seeds ---


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "https://127.0.0.1/targets/", "iroh://abc@127.0.0.1:1,[::1]:2"]
)
def test_a_seed_url_of_a_known_form_is_accepted(url: str) -> None:
    assert seed_url_problem(url) is None


def test_a_seed_url_of_another_form_is_refused_naming_at_most_80_characters_of_it() -> None:
    assert seed_url_problem("ftp://127.0.0.1/x") == (
        "seed 'ftp://127.0.0.1/x': use http(s)://HOST[:PORT][/PATH] or "
        "iroh://<endpoint id>@<host:port>,… (no spaces)"
    )
    long = "http://127.0.0.1/" + "x" * 100 + " y"
    assert seed_url_problem(long) == (
        f"seed {long[:80]!r}: use http(s)://HOST[:PORT][/PATH] or "
        "iroh://<endpoint id>@<host:port>,… (no spaces)"
    )


# --- what parse_catalog refuses, one line each ---


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff{}", "catalog is not UTF-8: invalid start byte at byte 0"),
        (b'{"schema": 1}\xfe', "catalog is not UTF-8: invalid start byte at byte 13"),
        (b'{\n"schema": 1,\n}', "catalog is not JSON: Expecting property name enclosed in "
         "double quotes at line 3"),
        (b"", "catalog is not JSON: Expecting value at line 1"),
        (b'{"schema": 1, "schema": 1}', "duplicate key 'schema'"),
        (b'{"a": {"b": 1, "b": 2}}', "duplicate key 'b'"),
        (b'{"schema": 1.5}', "number 1.5 is not an integer; canonical JSON has no floats"),
        (b'{"schema": 1e3}', "number 1e3 is not an integer; canonical JSON has no floats"),
        (b'{"schema": NaN}', "NaN is not JSON"),
        (b'{"schema": -Infinity}', "-Infinity is not JSON"),
        (b"[1]", "catalog is not a JSON object"),
        (b"1", "catalog is not a JSON object"),
        (b"{}", "catalog schema is None; this tool reads schema 1"),
        (b'{"schema": 2}', "catalog schema is 2; this tool reads schema 1"),
        (b'{"schema": "1"}', "catalog schema is '1'; this tool reads schema 1"),
    ],
)  # fmt: skip
def test_bytes_that_are_no_catalog_are_refused_with_one_line(data: bytes, message: str) -> None:
    assert refusal(data) == message


def test_a_model_error_names_its_place_and_counts_the_others() -> None:
    written = document()
    written["apps"]["demo"]["images"][0]["digest"] = "sha256:short"
    assert refusal(written) == (
        "apps.demo.images[0].digest: String should match pattern '^sha256:[0-9a-f]{64}$'"
    )
    written["dev_build"] = "yes"
    assert refusal(written) == "dev_build: Input should be a valid boolean (and 1 more)"
    written["apps"]["web"]["revision"] = -1
    assert refusal(written) == "dev_build: Input should be a valid boolean (and 2 more)"
    del written["source"]
    assert refusal(written) == "source: Field required (and 3 more)"


def test_an_app_under_another_apps_key_is_refused_at_the_top_level() -> None:
    written = document()
    written["apps"] = {"other": written["apps"]["demo"]}
    assert refusal(written) == "(top level): Value error, apps.other holds the manifest of 'demo'"


def test_an_entry_must_agree_with_its_embedded_manifest() -> None:
    written = document()
    written["apps"]["demo"]["revision"] = 2
    assert refusal(written) == (
        "apps.demo: Value error, version 1.0.0-r2 differs from the manifest's 1.0.0-r1"
    )
    written = document()
    written["apps"]["demo"]["version"] = "1.0.1"
    assert refusal(written) == (
        "apps.demo: Value error, version 1.0.1-r1 differs from the manifest's 1.0.0-r1"
    )
    written = document()
    actual = written["apps"]["demo"]["manifest_blake3"]
    written["apps"]["demo"]["manifest_blake3"] = H1
    assert refusal(written) == (
        f"apps.demo: Value error, manifest_blake3 is {H1}, the manifest's is {actual}"
    )


def test_a_target_must_be_named_after_its_own_hash() -> None:
    written = document()
    written["apps"]["demo"]["icon"] = target(f"icons/{H2}.demo.svg", H1)
    assert refusal(written) == (
        f"apps.demo.icon: Value error, target 'icons/{H2}.demo.svg' does not start with its "
        f"blake3 {H1}"
    )
    # the hash must be the whole first part of the name, not a prefix of it
    written["apps"]["demo"]["icon"] = target(f"{H1}x.demo.svg", H1)
    assert refusal(written).startswith("apps.demo.icon.target: String should match pattern")


@pytest.mark.parametrize(
    ("image_id", "archive", "local_override"),
    [(H1, target(f"images/{H1}.demo.tar", H1), True), (None, None, False),
     (H1, None, False), (None, target(f"images/{H1}.demo.tar", H1), False)],
)  # fmt: skip
def test_a_companion_is_either_built_or_a_local_override(
    image_id: str | None, archive: dict[str, Any] | None, local_override: bool
) -> None:
    written = document()
    written["apps"]["demo"]["companions"] = [
        {"member": "demo", "image": "localhost/demo:1", "context_blake3": H1,
         "image_id": image_id, "archive": archive, "local_override": local_override}
    ]  # fmt: skip
    assert refusal(written) == (
        "apps.demo.companions[0]: Value error, a companion is either built (image_id and "
        "archive) or a :local override"
    )


def test_a_refusal_is_one_line_even_for_a_value_with_newlines() -> None:
    written = document()
    written["dev_build"] = "a\nb"
    message = refusal(json.dumps(written).encode())
    assert message == "dev_build: Input should be a valid boolean"
