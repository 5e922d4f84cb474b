"""A hostile CI tampers with each stored artefact of a signing event (issue 12, findings 2, 3, 5).

CI writes every file of an event and of the build; each test below alters one
of them as an attacker would, then runs the command a maintainer runs, and
checks what the maintainer sees: either the truth, computed from the signed
metadata, or a one-line refusal naming what is wrong — never the stored text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.address import blake3_hex
from catalog.app_network import registry_network
from catalog.catalog_model import CATALOG_NAME, AppCatalog, Companion, TargetFile, parse_catalog
from catalog.loader import ManifestSource
from pipeline.catalog_build import with_pinned_images
from pipeline.ceremony.catalog_diff import diff_catalogs
from pipeline.ceremony.event import (
    CeremonyError,
    SigningEvent,
    add_signature,
    open_targets_event,
)
from pipeline.ceremony.keystore import write_public_key_file
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import open_catalog_event, open_root_rotation, sign_event
from pipeline.cli import main
from pipeline.publish.artifacts import read_build_outputs
from pipeline.render import container_file_name, render_app
from signing.developer import sign_catalog_apps
from signing.did_key import DidKeySigner
from signing.keys import SigningKey
from signing.metadata_fields import format_expires
from tests.support.ceremony_setup import NOW, PASSPHRASE, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp, write_build

ENV = {"ARCHY_TEST_PASSPHRASE": PASSPHRASE.decode()}
UNIT = container_file_name("demo-web", "demo-web")


def archy(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or ENV)


def refusal(result: Result) -> str:
    """The one line a refused command prints; it must be a refusal, not a crash."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def sign_cli(ceremony: ThrowawayCeremony, event_id: str, who: str = "alice") -> Result:
    return archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--event",
        event_id,
        "--key",
        str(ceremony.key_files[who]),
        "--yes",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )


def accepted_event(ceremony: ThrowawayCeremony, dist: Path) -> SigningEvent:
    """Open the event for the build in ``dist`` and sign it with 2 of 3: it is accepted."""
    event, _review = open_catalog_event(ceremony.state, dist, NOW)
    for key in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, key, NOW)
    return event


def hostile_event(
    ceremony: ThrowawayCeremony, dist: Path, extra: tuple[tuple[str, bytes], ...] = ()
) -> SigningEvent:
    """The event files a hostile CI writes itself for ``dist``, skipping every check."""
    state = ceremony.state
    outputs = read_build_outputs(dist)
    event = open_targets_event(
        max(state.targets_event_versions(), default=0) + 1,
        NOW + state.settings.expiry("targets"),
        outputs.artifacts + extra,
        NOW,
        catalog=outputs.catalog_bytes,
    )
    state.save_event(event, "no app changes\n")
    return event


def edit_units(dist: Path, inserted: str) -> tuple[int, str]:
    """Insert ``inserted`` after ``[Container]`` in the built catalog's demo-web unit.

    Returns (the line number the inserted line lands on, the line the renderer writes there).
    """
    path = dist / CATALOG_NAME
    catalog = parse_catalog(path.read_bytes())
    app = catalog.apps["demo-web"]
    lines = app.units[UNIT].split("\n")
    at = lines.index("[Container]") + 1
    expected = lines[at]
    lines.insert(at, inserted)
    units = {**app.units, UNIT: "\n".join(lines)}
    hostile = catalog.model_copy(
        update={"apps": {"demo-web": app.model_copy(update={"units": units})}}
    )
    path.write_bytes(hostile.to_canonical())
    return at + 1, expected


KEPT = "kept as published, already signed"
NEW = "new, signed with targets"


def targets_header(
    event: SigningEvent, catalog: bytes, top: str, app_files: str, deltas: str
) -> str:
    """The review's first lines: ``top`` like "0 files", ``app_files`` like "v1 (...): 1 file"."""
    expires = format_expires(event.metadata.signed.expires)
    return (
        f"targets v{event.record.version}, expires {expires}: {CATALOG_NAME} "
        f"({len(catalog)} bytes, blake3 {blake3_hex(catalog)}), {top} it names at the top level\n"
        f"app-files {app_files} it names\n"
        f"derived: {deltas} from earlier accepted catalogs, each rebuilding this catalog "
        "byte for byte\n"
    )


def app_files_text(version: int, state: str, files: int, expires_event: SigningEvent) -> str:
    assert expires_event.app_files is not None
    expires = format_expires(expires_event.app_files.signed.expires)
    return f"v{version} ({state}), expires {expires}: {files} file{'' if files == 1 else 's'}"


CHECKED = (
    "checked: 1 app passes schema, policy and cross-app rules; "
    "every unit re-renders byte for byte\n"
)


@pytest.fixture
def ceremony(tmp_path: Path) -> ThrowawayCeremony:
    return make_ceremony(tmp_path)


# --- finding 2: the signer is shown a stored diff ---------------------------------------


def test_a_diff_txt_replaced_with_no_app_changes_still_shows_the_real_change(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "v1", [SmallApp("demo-web")])
    first = accepted_event(ceremony, tmp_path / "v1")
    write_build(
        tmp_path / "v2",
        [SmallApp("demo-web", version="1.1.0", permissions={"tor": True})],
        commit="b" * 40,
    )
    second, _review = open_catalog_event(ceremony.state, tmp_path / "v2", NOW)
    (ceremony.state.event_dir(second.event_id) / "diff.txt").write_text("no app changes\n")

    result = sign_cli(ceremony, second.event_id)

    assert result.exit_code == 0, result.output
    catalog = (tmp_path / "v2" / CATALOG_NAME).read_bytes()
    shown = result.stdout.split("signed targets-")[0]
    assert shown == (
        f"signing event {second.event_id} (targets v2):\n"
        + targets_header(
            second, catalog, "0 files", app_files_text(1, KEPT, 1, second), "1 catalog delta"
        )
        + CHECKED
        + f"changes since targets v1 (event {first.event_id}, accepted):\n"
        "source commit aaaaaaaaaaaa -> bbbbbbbbbbbb\n"
        "~ demo-web 1.1.0-r1\n"
        "  demo-web: version 1.0.0-r1 -> 1.1.0-r1\n"
        "  demo-web: new permission tor\n"
        f"  demo-web: units changed: {UNIT}\n"
    )
    assert "no app changes" not in result.stdout


def test_the_diff_is_against_the_last_accepted_catalog_not_an_unsigned_event(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "v1", [SmallApp("demo-web")])
    first = accepted_event(ceremony, tmp_path / "v1")
    # CI opens an event with the change and never gets it signed, then one without it:
    write_build(tmp_path / "v2", [SmallApp("demo-web", version="6.6.6")], commit="b" * 40)
    open_catalog_event(ceremony.state, tmp_path / "v2", NOW)
    write_build(tmp_path / "v3", [SmallApp("demo-web", version="6.6.6")], commit="c" * 40)
    third, review = open_catalog_event(ceremony.state, tmp_path / "v3", NOW)
    assert f"changes since targets v1 (event {first.event_id}, accepted):" in review.lines
    assert "  demo-web: version 1.0.0-r1 -> 6.6.6-r1" in review.lines
    assert third.record.version == 3


def test_an_old_version_reopened_after_a_newer_one_was_accepted_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    """CI writes a v1 event after v2 was accepted: the signer is not told "everything is new"."""
    write_build(tmp_path / "v1", [SmallApp("demo-web")])
    accepted_event(ceremony, tmp_path / "v1")
    write_build(tmp_path / "v2", [SmallApp("demo-web", version="1.1.0")], commit="b" * 40)
    second = accepted_event(ceremony, tmp_path / "v2")
    write_build(tmp_path / "old", [SmallApp("demo-web", version="0.9.0")], commit="c" * 40)
    outputs = read_build_outputs(tmp_path / "old")
    stale = open_targets_event(
        1, NOW + ceremony.state.settings.expiry("targets"), outputs.artifacts, NOW,
        catalog=outputs.catalog_bytes,
    )  # fmt: skip
    ceremony.state.save_event(stale)

    result = sign_cli(ceremony, stale.event_id)

    assert refusal(result) == (
        f"error: event {stale.event_id} signs targets v1, but targets v2 (event "
        f"{second.event_id}) is already accepted; signing it could only roll nodes back"
    )
    assert result.stdout == ""


def test_a_tampered_last_accepted_catalog_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "v1", [SmallApp("demo-web", version="6.6.6")])
    first = accepted_event(ceremony, tmp_path / "v1")
    # Make the old catalog say what the new one says, so the change looks like nothing:
    write_build(tmp_path / "fake", [SmallApp("demo-web")], commit="b" * 40)
    fake = (tmp_path / "fake" / CATALOG_NAME).read_bytes()
    (ceremony.state.event_dir(first.event_id) / CATALOG_NAME).write_bytes(fake)
    write_build(tmp_path / "v2", [SmallApp("demo-web")], commit="b" * 40)

    result = archy(
        "ceremony", "open", "--dir", str(ceremony.state.path), "--dist", str(tmp_path / "v2")
    )

    assert refusal(result) == (
        f"error: the last accepted catalog (event {first.event_id}) cannot be trusted: "
        f"{CATALOG_NAME} is not the catalog the targets metadata (v1) signs "
        "(blake3 hash does not match)"
    )
    assert result.stdout == ""
    assert ceremony.state.event_ids() == [first.event_id]


def _rotation_adding_a_targets_key(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> tuple[SigningEvent, SigningKey]:
    dave = SigningKey.generate()
    write_public_key_file(tmp_path / "dave.key.pub", dave.public_key)
    result = archy(
        "ceremony",
        "rotate-root",
        "--dir",
        str(ceremony.state.path),
        "--add-targets-key",
        str(tmp_path / "dave.key.pub"),
    )
    assert result.exit_code == 0, result.output
    event = ceremony.state.load_event(ceremony.state.latest_event_id("root"))
    return event, dave


def test_deleting_the_targets_lines_of_a_root_rotation_diff_still_shows_the_new_targets_key(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    rotation, dave = _rotation_adding_a_targets_key(ceremony, tmp_path)
    diff_file = ceremony.state.event_dir(rotation.event_id) / "diff.txt"
    assert "targets: new key" in diff_file.read_text()  # the informational copy CI wrote
    diff_file.write_text(
        "".join(line for line in diff_file.read_text().splitlines(True) if "targets:" not in line)
    )

    result = sign_cli(ceremony, rotation.event_id)

    assert result.exit_code == 0, result.output
    root = ceremony.state.roots()[0].signed
    next_root = rotation.metadata.signed
    assert result.stdout.split("signed root-")[0] == (
        f"signing event {rotation.event_id} (root v2):\n"
        f"root v1 -> v2, expires {format_expires(next_root.expires)} "
        f"(was {format_expires(root.expires)})\n"
        f"  targets: new key {dave.keyid} ({dave.public_key.keytype}/{dave.public_key.scheme})\n"
    )


def test_a_changed_root_document_of_a_rotation_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    rotation, _dave = _rotation_adding_a_targets_key(ceremony, tmp_path)
    path = ceremony.state.event_dir(rotation.event_id) / "metadata.json"
    path.write_text(path.read_text().replace('"threshold": 2', '"threshold": 1'))

    result = sign_cli(ceremony, rotation.event_id)

    assert refusal(result).startswith(
        f"error: event {rotation.event_id} was altered after it was opened"
    )
    assert result.stdout == ""


def test_a_root_document_changed_together_with_its_record_is_shown_as_it_is(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    """CI rewrites the root document *and* the event's record: the signer sees the new root."""
    rotation, _dave = _rotation_adding_a_targets_key(ceremony, tmp_path)
    directory = ceremony.state.event_dir(rotation.event_id)
    metadata = json.loads((directory / "metadata.json").read_text())
    metadata["signed"]["roles"]["targets"]["threshold"] = 1
    (directory / "metadata.json").write_text(json.dumps(metadata))
    altered = ceremony.state.load_event(rotation.event_id)
    record = json.loads((directory / "event.json").read_text())
    record["signed_blake3"] = blake3_hex(altered.metadata.signed_bytes)
    (directory / "event.json").write_text(json.dumps(record))

    result = sign_cli(ceremony, rotation.event_id)

    assert result.exit_code == 0, result.output
    assert "  targets: threshold 2 -> 1\n" in result.stdout


# --- finding 3: units are never re-checked after the build ------------------------------

HOSTILE_LINES = ["PodmanArgs=--privileged", "Volume=/:/host"]


def _unit_refusal(line_number: int, expected: str, found: str, prefix: str = "") -> str:
    return (
        f"error: {prefix}{CATALOG_NAME}: apps/demo-web: unit {UNIT} line {line_number} differs "
        f"from what the manifest renders: expected {expected!r}, found {found!r}"
    )


@pytest.mark.parametrize("hostile_line", HOSTILE_LINES)
def test_hostile_lines_edited_into_built_units_are_refused_by_ceremony_open(
    ceremony: ThrowawayCeremony, tmp_path: Path, hostile_line: str
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    line_number, expected = edit_units(tmp_path / "dist", hostile_line)

    result = archy(
        "ceremony", "open", "--dir", str(ceremony.state.path), "--dist", str(tmp_path / "dist")
    )

    assert refusal(result) == _unit_refusal(line_number, expected, hostile_line)
    assert result.stdout == ""
    assert ceremony.state.event_ids() == []


@pytest.mark.parametrize("hostile_line", HOSTILE_LINES)
def test_hostile_lines_edited_into_built_units_are_refused_by_ceremony_sign(
    ceremony: ThrowawayCeremony, tmp_path: Path, hostile_line: str
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    line_number, expected = edit_units(tmp_path / "dist", hostile_line)
    event = hostile_event(ceremony, tmp_path / "dist")

    result = sign_cli(ceremony, event.event_id)

    assert refusal(result) == _unit_refusal(line_number, expected, hostile_line)
    assert result.stdout == ""
    assert ceremony.state.load_event(event.event_id).metadata.signatures == ()


@pytest.mark.parametrize("hostile_line", HOSTILE_LINES)
def test_hostile_lines_edited_into_built_units_are_refused_by_publish(
    ceremony: ThrowawayCeremony, tmp_path: Path, hostile_line: str
) -> None:
    """Even an event that met its threshold (say, signed before these checks existed)."""
    dist = tmp_path / "dist"
    write_build(dist, [SmallApp("demo-web")])
    line_number, expected = edit_units(dist, hostile_line)
    event = hostile_event(ceremony, dist)
    root = ceremony.state.trusted_root()
    for key in ceremony.maintainers[:2]:
        event = add_signature(event, key, root, NOW)
    ceremony.state.save_event(event)

    result = archy(
        "publish",
        "--to",
        f"file://{tmp_path / 'repo'}",
        "--ceremony",
        str(ceremony.state.path),
        "--event",
        event.event_id,
        "--dist",
        str(dist),
        "--online-key",
        str(ceremony.key_files["online"]),
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )

    assert refusal(result) == _unit_refusal(line_number, expected, hostile_line, f"{dist}: ")
    assert not (tmp_path / "repo").exists()


def test_a_policy_violation_in_an_embedded_manifest_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web", image="docker.io/library/nginx:latest")])
    event = hostile_event(ceremony, tmp_path / "dist")

    result = sign_cli(ceremony, event.event_id)

    line = refusal(result)
    assert line.startswith(f"error: {CATALOG_NAME}: apps/demo-web/manifest.yml: ")
    assert "containers[0].image: image tag 'latest'" in line and line.endswith("(P005)")
    assert result.stdout == ""


def test_an_image_swapped_in_the_catalog_but_not_in_the_manifest_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    write_build(dist, [SmallApp("demo-web")])
    catalog = parse_catalog((dist / CATALOG_NAME).read_bytes())
    app = catalog.apps["demo-web"]
    evil = app.images[0].model_copy(update={"reference": "docker.io/evil/nginx:1.27.3"})
    hostile = catalog.model_copy(
        update={
            "apps": {"demo-web": app.model_copy(update={"images": [evil]})},
            "images": {evil.reference: catalog.images["docker.io/library/nginx:1.27.3"]},
        }
    )
    (dist / CATALOG_NAME).write_bytes(hostile.to_canonical())

    result = archy("ceremony", "open", "--dir", str(ceremony.state.path), "--dist", str(dist))

    assert refusal(result) == (
        f"error: {CATALOG_NAME}: apps/demo-web: image of demo-web is "
        "'docker.io/evil/nginx:1.27.3', the manifest names docker.io/library/nginx:1.27.3"
    )
    assert ceremony.state.event_ids() == []


def test_catalog_bytes_that_do_not_match_the_events_targets_metadata_are_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    path = ceremony.state.event_dir(event.event_id) / CATALOG_NAME
    signed = path.read_bytes()
    path.write_bytes(signed.replace(b"18080", b"18081"))  # same length, other bytes

    result = sign_cli(ceremony, event.event_id)

    assert refusal(result) == (
        f"error: {CATALOG_NAME} is not the catalog the targets metadata (v1) signs "
        "(blake3 hash does not match)"
    )
    assert result.stdout == ""


def test_a_missing_event_catalog_is_refused(ceremony: ThrowawayCeremony, tmp_path: Path) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    (ceremony.state.event_dir(event.event_id) / CATALOG_NAME).unlink()

    result = sign_cli(ceremony, event.event_id)

    assert refusal(result) == f"error: the event holds no {CATALOG_NAME} (the file is missing)"


# --- finding 5: the node binary is invisible to signers ----------------------------------


def test_a_swapped_or_added_node_binary_is_shown_to_the_signer(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    old, new, arm = b"archy-node one", b"archy-node swapped!", b"archy-node for arm"
    write_build(tmp_path / "v1", [SmallApp("demo-web")], node={"linux-amd64": old})
    first = accepted_event(ceremony, tmp_path / "v1")
    write_build(
        tmp_path / "v2",
        [SmallApp("demo-web")],
        node={"linux-amd64": new, "linux-arm64": arm},
        seeds=["http://127.0.0.1:8123/blobs"],
    )
    second, _review = open_catalog_event(ceremony.state, tmp_path / "v2", NOW)

    result = sign_cli(ceremony, second.event_id)

    assert result.exit_code == 0, result.output
    catalog = (tmp_path / "v2" / CATALOG_NAME).read_bytes()
    assert result.stdout.split("signed targets-")[0] == (
        f"signing event {second.event_id} (targets v2):\n"
        + targets_header(
            second, catalog, "2 files", app_files_text(1, KEPT, 1, second), "1 catalog delta"
        )
        + CHECKED
        + f"changes since targets v1 (event {first.event_id}, accepted):\n"
        f"~ node binary linux-amd64: {len(old)} bytes blake3 {blake3_hex(old)} -> "
        f"{len(new)} bytes blake3 {blake3_hex(new)}\n"
        f"+ node binary linux-arm64 {len(arm)} bytes blake3 {blake3_hex(arm)} (new)\n"
        "+ seed http://127.0.0.1:8123/blobs\n"
    )


def test_a_removed_node_binary_is_shown_to_the_signer(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    binary = b"archy-node one"
    write_build(tmp_path / "v1", [SmallApp("demo-web")], node={"linux-amd64": binary})
    accepted_event(ceremony, tmp_path / "v1")
    write_build(tmp_path / "v2", [SmallApp("demo-web")])
    _second, review = open_catalog_event(ceremony.state, tmp_path / "v2", NOW)
    assert review.lines[-1] == (
        f"- node binary linux-amd64 {len(binary)} bytes blake3 {blake3_hex(binary)} (removed)"
    )


def test_a_node_binary_signed_beside_the_catalog_but_not_named_by_it_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event = hostile_event(
        ceremony, tmp_path / "dist", extra=(("node/archy-node-linux-amd64", b"\x7fELF evil"),)
    )

    result = sign_cli(ceremony, event.event_id)

    assert refusal(result) == (
        "error: the targets metadata signs node/archy-node-linux-amd64, "
        f"which {CATALOG_NAME} does not name"
    )
    assert result.stdout == ""


# --- finding 9: passphrases, and keys refused before anything is shown ------------------


@pytest.mark.parametrize(
    ("passphrase", "problem"),
    [
        ("a", "the passphrase has 1 character; a new key's passphrase needs at least 12"),
        ("password1234", "the passphrase is one of the most common ones; choose another"),
        (
            "Correct Horse Battery Staple",
            "the passphrase is one of the most common ones; choose another",
        ),
    ],
)
def test_keygen_refuses_a_weak_passphrase_and_writes_nothing(
    tmp_path: Path, passphrase: str, problem: str
) -> None:
    out = tmp_path / "me.key"
    result = archy(
        "ceremony",
        "keygen",
        "--out",
        str(out),
        "--kdf-cost",
        "interactive",
        "--passphrase-env",
        "NEW_PASSPHRASE",
        env={"NEW_PASSPHRASE": passphrase},
    )
    assert refusal(result) == f"error: {out}: {problem} (nothing was written)"
    assert list(tmp_path.iterdir()) == []


def test_keygen_refuses_a_one_character_passphrase_typed_at_the_prompt(tmp_path: Path) -> None:
    out = tmp_path / "me.key"
    result = CliRunner().invoke(
        main,
        ["ceremony", "keygen", "--out", str(out), "--kdf-cost", "interactive"],
        input="a\na\n",
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: {out}: the passphrase has 1 character; a new key's passphrase needs at "
        "least 12 (nothing was written)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("who", "env", "expected"),
    [
        ("alice", {"ARCHY_TEST_PASSPHRASE": "not the passphrase"}, "wrong passphrase"),
        ("online", ENV, "is not a key of targets"),
    ],
)
def test_a_wrong_passphrase_or_a_key_of_another_role_is_refused_before_the_diff_is_shown(
    ceremony: ThrowawayCeremony, tmp_path: Path, who: str, env: dict[str, str], expected: str
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--event",
        event.event_id,
        "--key",
        str(ceremony.key_files[who]),
        "--yes",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
        env=env,
    )
    assert expected in refusal(result)
    assert result.stdout == ""
    assert CeremonyState(ceremony.state.path).load_event(event.event_id).metadata.signatures == ()


def test_a_rotation_can_still_be_opened_with_the_event_review(
    ceremony: ThrowawayCeremony,
) -> None:
    """The library step returns the same review the command prints."""
    event, review = open_root_rotation(ceremony.state, {}, {}, {"targets": 3}, NOW)
    assert review.event_id == event.event_id
    assert review.lines[1:] == ("  targets: threshold 2 -> 3",)


def test_a_swapped_companion_image_and_icon_are_in_the_computed_diff(tmp_path: Path) -> None:
    before = write_build(tmp_path / "v1", [SmallApp("demo-web")])

    def companion(data: bytes, image_id: str) -> Companion:
        digest = blake3_hex(data)
        archive = TargetFile(
            target=f"companions/{digest}.demo-web.oci.tar", blake3=digest, length=len(data)
        )
        return Companion(
            member="demo-web",
            image="localhost/demo-web:1",
            context_blake3=blake3_hex(b"context"),
            image_id=image_id,
            archive=archive,
        )

    def with_companion(
        catalog: AppCatalog, data: bytes, image_id: str, icon: TargetFile | None
    ) -> AppCatalog:
        app = catalog.apps["demo-web"]
        app = app.model_copy(update={"companions": [companion(data, image_id)], "icon": icon})
        return catalog.model_copy(update={"apps": {"demo-web": app}})

    icon = before.apps["demo-web"].icon
    old = with_companion(before, b"honest", "a" * 64, icon)
    new = with_companion(before, b"swapped", "b" * 64, None)
    honest, swapped = blake3_hex(b"honest"), blake3_hex(b"swapped")
    assert diff_catalogs(old, new) == [
        "~ demo-web 1.0.0-r1",
        f"  demo-web: companion demo-web localhost/demo-web:1 id {'a' * 64} archive 6 bytes "
        f"blake3 {honest} -> localhost/demo-web:1 id {'b' * 64} archive 7 bytes blake3 {swapped}",
        f"  demo-web: icon blake3 {icon.blake3} -> none",
    ]


def test_open_json_carries_the_computed_review(ceremony: ThrowawayCeremony, tmp_path: Path) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    result = archy(
        "ceremony",
        "open",
        "--dir",
        str(ceremony.state.path),
        "--dist",
        str(tmp_path / "dist"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    event = ceremony.state.load_event(document["event_id"])
    assert document["review"][3:6] == [
        CHECKED.rstrip("\n"),
        "no catalog was accepted before: everything is new",
        "first catalog, source commit aaaaaaaaaaaa",
    ]
    catalog = (tmp_path / "dist" / CATALOG_NAME).read_bytes()
    header = targets_header(
        event, catalog, "0 files", app_files_text(1, NEW, 1, event), "0 catalog deltas"
    )
    assert document["review"][0:3] == header.rstrip("\n").split("\n")


def test_an_event_changed_between_review_and_signature_is_not_signed(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "v1", [SmallApp("demo-web")])
    shown, _review = open_catalog_event(ceremony.state, tmp_path / "v1", NOW)
    reviewed = shown.content_blake3
    # While the signer reads, CI swaps the event for another build under the same id:
    write_build(tmp_path / "v2", [SmallApp("demo-web", version="6.6.6")], commit="b" * 40)
    outputs = read_build_outputs(tmp_path / "v2")
    swapped = open_targets_event(
        1, shown.metadata.signed.expires, outputs.artifacts, NOW, catalog=outputs.catalog_bytes
    )
    directory = ceremony.state.event_dir(shown.event_id)
    swapped_dir = ceremony.state.save_event(swapped)
    for name in ("metadata.json", "event.json", CATALOG_NAME):
        (directory / name).write_bytes((swapped_dir / name).read_bytes())

    with pytest.raises(CeremonyError, match="changed while you were reviewing it"):
        sign_event(ceremony.state, shown.event_id, ceremony.maintainers[0], NOW, reviewed)
    assert ceremony.state.load_event(shown.event_id).metadata.signatures == ()


# --- a developer's registry: CI cannot drop, swap or forge the developer's signatures -----


def developer_signed_build(
    dist: Path, *signers: DidKeySigner, on_registry_network: bool = True
) -> None:
    """A two-app build in ``dist`` whose entries are signed by ``signers`` (one per app),
    their units rendered on the signer's registry network (as ``archy build
    --developer-dir`` renders them), or left on archy-net."""
    write_build(dist, [SmallApp("demo-web"), SmallApp("demo-two", host_port=18081)])
    path = dist / CATALOG_NAME
    catalog = parse_catalog(path.read_bytes())
    apps = dict(catalog.apps)
    for app_id, signer in zip(sorted(apps), signers, strict=True):
        app = apps[app_id]
        if on_registry_network:
            source = ManifestSource(app.manifest, f"apps/{app_id}/manifest.yml", {})
            pinned = with_pinned_images(source, list(app.images))
            units = render_app(pinned, network=registry_network(signer.did))
            app = app.model_copy(update={"units": dict(sorted(units.items()))})
        one = sign_catalog_apps(catalog.model_copy(update={"apps": {app_id: app}}), signer)
        apps[app_id] = one.apps[app_id]
    path.write_bytes(catalog.model_copy(update={"apps": apps}).to_canonical())


def strip_developer(dist: Path, app_id: str) -> None:
    path = dist / CATALOG_NAME
    catalog = parse_catalog(path.read_bytes())
    apps = {**catalog.apps, app_id: catalog.apps[app_id].model_copy(update={"developer": None})}
    path.write_bytes(catalog.model_copy(update={"apps": apps}).to_canonical())


def test_a_developer_registry_signed_by_one_did_key_opens(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    developer = DidKeySigner.from_seed(b"d" * 32)
    developer_signed_build(tmp_path / "dist", developer, developer)
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    assert event.event_id in ceremony.state.event_ids()


def test_a_developer_registry_whose_units_ci_left_on_archy_net_is_refused_at_open(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    developer = DidKeySigner.from_seed(b"d" * 32)
    developer_signed_build(tmp_path / "dist", developer, developer, on_registry_network=False)
    with pytest.raises(CeremonyError) as refused:
        open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    network = registry_network(developer.did)
    assert f"apps/demo-two: unit {network}.network is missing from the catalog" in str(
        refused.value
    )
    assert ceremony.state.event_ids() == []


def test_an_entry_whose_developer_signature_ci_dropped_is_refused_at_open(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    developer = DidKeySigner.from_seed(b"d" * 32)
    developer_signed_build(tmp_path / "dist", developer, developer)
    strip_developer(tmp_path / "dist", "demo-web")

    with pytest.raises(CeremonyError) as refused:
        open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    assert str(refused.value).endswith(
        "apps.demo-web.developer: the entry carries no developer signature"
    )
    assert ceremony.state.event_ids() == []


def test_entries_signed_by_two_developers_are_refused_at_open(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    first, second = DidKeySigner.from_seed(b"d" * 32), DidKeySigner.from_seed(b"e" * 32)
    developer_signed_build(tmp_path / "dist", first, second)

    with pytest.raises(CeremonyError, match="apps: entries are signed by 2 developers"):
        open_catalog_event(ceremony.state, tmp_path / "dist", NOW)


def test_a_forged_developer_signature_in_a_hostile_event_is_refused_at_sign(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    developer = DidKeySigner.from_seed(b"d" * 32)
    developer_signed_build(tmp_path / "dist", developer, developer)
    path = tmp_path / "dist" / CATALOG_NAME
    catalog = parse_catalog(path.read_bytes())
    web = catalog.apps["demo-web"]
    assert web.developer is not None
    forged = web.developer.model_copy(update={"signature": "00" * 64})
    apps = {**catalog.apps, "demo-web": web.model_copy(update={"developer": forged})}
    path.write_bytes(catalog.model_copy(update={"apps": apps}).to_canonical())
    event = hostile_event(ceremony, tmp_path / "dist")

    line = refusal(sign_cli(ceremony, event.event_id))

    assert line.endswith(
        f"apps.demo-web.developer.signature: not a signature of this manifest by {developer.did}"
    )
    assert ceremony.state.load_event(event.event_id).metadata.signatures == ()
