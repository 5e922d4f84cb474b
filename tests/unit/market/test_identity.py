"""`archy dev keygen` / `archy dev whoami`: a did:key and a Nostr key, encrypted at rest,
and a public binding anyone can check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main as archy_main
from pipeline.market.identity import IdentityError, open_identity
from signing.developer import binding_problem
from signing.did_key import parse_did_key
from tests.support.market import PASSPHRASE

ENV = {"DEV_PASSPHRASE": PASSPHRASE.decode(), "WEAK": "short"}


def archy(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(archy_main, list(args), env=ENV)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def keygen(directory: Path, *extra: str) -> tuple[int, str, str]:
    return archy(
        "dev", "keygen", "--dir", str(directory), "--kdf-cost", "interactive",
        "--passphrase-env", "DEV_PASSPHRASE", *extra,
    )  # fmt: skip


def test_keygen_makes_two_sealed_keys_and_a_public_binding(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    code, stdout, stderr = keygen(directory, "--json")
    assert (code, stderr) == (0, "")
    made = json.loads(stdout)
    assert made["did"].startswith("did:key:z6Mk")
    assert made["npub"].startswith("npub1")
    assert sorted(os.listdir(directory)) == ["did-key.json", "identity.json", "nostr-key.json"]
    modes = {name: os.stat(directory / name).st_mode & 0o777 for name in os.listdir(directory)}
    assert modes == {"did-key.json": 0o600, "nostr-key.json": 0o600, "identity.json": 0o644}
    opened = open_identity(directory, PASSPHRASE)
    for name in ("did-key.json", "nostr-key.json"):
        text = (directory / name).read_text()
        assert opened.nostr_secret_hex not in text
        assert opened.signer.seed().hex() not in text
    assert opened.nostr_secret_hex not in stdout
    # the binding is checkable from public data alone
    public = json.loads((directory / "identity.json").read_text())
    assert binding_problem(public["did"], public["nostr_pubkey"], public["binding"]) is None
    assert len(parse_did_key(public["did"])) == 32

    code, stdout, stderr = archy("dev", "whoami", "--dir", str(directory))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines() == [
        f"did:key  {made['did']}",
        f"npub     {made['npub']}",
        "binding  verified (the did:key signs that this npub announces for it)",
    ]
    code, stdout, _ = archy("dev", "whoami", "--dir", str(directory), "--json")
    assert json.loads(stdout)["npub"] == made["npub"]


def test_keygen_never_overwrites_an_identity(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    assert keygen(directory)[0] == 0
    before = {name: (directory / name).read_bytes() for name in os.listdir(directory)}
    code, stdout, stderr = keygen(directory)
    assert (code, stdout) == (1, "")
    assert stderr.splitlines() == [
        f"error: {directory / 'did-key.json'}: already exists; an identity is never overwritten",
        "hint: use another --dir, or `archy dev whoami` to see the one there",
    ]
    assert {name: (directory / name).read_bytes() for name in os.listdir(directory)} == before


def test_a_weak_passphrase_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    code, _, stderr = archy("dev", "keygen", "--dir", str(directory), "--passphrase-env", "WEAK")
    assert code == 1
    assert stderr == (
        f"error: {directory}: the passphrase has 5 characters; a new key's passphrase needs "
        "at least 12 (nothing was written)\n"
    )
    assert not directory.exists()


def test_whoami_refuses_a_binding_that_does_not_verify(tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    assert keygen(mine)[0] == 0 and keygen(theirs)[0] == 0
    document = json.loads((mine / "identity.json").read_text())
    other = json.loads((theirs / "identity.json").read_text())
    document.update(nostr_pubkey=other["nostr_pubkey"], npub=other["npub"])
    (mine / "identity.json").write_text(json.dumps(document))
    code, stdout, stderr = archy("dev", "whoami", "--dir", str(mine))
    assert (code, stdout) == (1, "")
    assert stderr == (
        f"error: {mine / 'identity.json'}: the binding is not signed by {document['did']} "
        f"for Nostr key {other['nostr_pubkey'][:16]}…\n"
    )


def test_whoami_without_an_identity_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, stderr = archy("dev", "whoami", "--dir", str(tmp_path / "none"))
    assert code == 1
    assert stderr.splitlines() == [
        f"error: {tmp_path / 'none' / 'identity.json'}: no developer identity here",
        "hint: create one with `archy dev keygen`",
    ]


def test_announce_refuses_a_file_that_is_not_a_catalog(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    assert keygen(directory)[0] == 0
    code, stdout, stderr = archy(
        "dev", "announce", "--dir", str(directory), "--catalog", __file__, "--root", __file__,
        "--registry", "r", "--origin", "file:///x", "--relay", "ws://127.0.0.1:9",
    )  # fmt: skip
    assert (code, stdout) == (1, "")
    assert stderr == f"error: {__file__}: catalog is not JSON: Extra data at line 1\n"


def test_a_wrong_passphrase_opens_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "identity"
    assert keygen(directory)[0] == 0
    with pytest.raises(IdentityError, match=r"did-key.json: wrong passphrase$"):
        open_identity(directory, b"not the passphrase at all")
