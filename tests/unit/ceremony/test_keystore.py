"""Keys at rest: encrypted with a passphrase, 0600, never overwritten, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.ceremony.keystore import (
    KdfCost,
    KeyFileError,
    WrongPassphraseError,
    read_key_file,
    read_public_key,
    write_key_file,
)
from signing.keys import SigningKey


def test_a_key_file_round_trips_with_its_passphrase_and_is_0600(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "alice.key"
    write_key_file(path, key, b"open sesame", KdfCost.INTERACTIVE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path, b"open sesame").keyid == key.keyid
    assert read_public_key(path) == key.public_key


def test_the_seed_is_not_in_the_file(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "alice.key"
    write_key_file(path, key, b"open sesame", KdfCost.INTERACTIVE)
    text = path.read_text()
    assert key.seed().hex() not in text
    assert "open sesame" not in text


def test_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alice.key"
    write_key_file(path, SigningKey.generate(), b"open sesame", KdfCost.INTERACTIVE)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        read_key_file(path, b"open barley")


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"nowhere\.key: no such key file"):
        read_key_file(tmp_path / "nowhere.key", b"x")


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "alice.key"
    write_key_file(path, SigningKey.generate(), b"one", KdfCost.INTERACTIVE)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="never overwritten"):
        write_key_file(path, SigningKey.generate(), b"two", KdfCost.INTERACTIVE)
    assert path.read_bytes() == before


def test_a_signing_key_repr_hides_the_secret() -> None:
    key = SigningKey.generate()
    assert key.seed().hex() not in repr(key)
