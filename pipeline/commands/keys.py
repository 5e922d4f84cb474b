"""Opening signing keys for a command: passphrases from the options, the online key from a file
or an environment variable.

A key file's public part is read (and a missing or malformed file refused) before any
passphrase is asked for.  A passphrase comes from ``--passphrase-file``,
``--passphrase-env NAME`` or a hidden prompt; it is never printed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from catalog.refusal import Refused
from pipeline.ceremony.keystore import KeyFileError, read_key_file, read_public_key
from pipeline.ceremony.passphrase import PassphraseSource, passphrase_source
from pipeline.market.identity import (
    DeveloperIdentity,
    IdentityError,
    open_identity,
    read_public_identity,
)
from signing.keys import SigningKey


def utc_now() -> datetime:
    return datetime.now(UTC)


def passphrases(passphrase_file: Path | None, passphrase_env: str | None) -> PassphraseSource:
    """Where the passphrase options say passphrases come from (a prompt when neither is given)."""
    return passphrase_source(passphrase_file, passphrase_env, dict(os.environ))


def open_developer_identity(
    directory: Path, passphrase_file: Path | None, passphrase_env: str | None
) -> DeveloperIdentity:
    """The developer identity in ``directory`` (``archy dev keygen``), its public part checked
    before the passphrase is asked for."""
    read_public_identity(directory)
    try:
        passphrase = passphrases(passphrase_file, passphrase_env)(str(directory))
    except KeyFileError as error:
        raise IdentityError(str(error)) from None
    return open_identity(directory, passphrase)


def open_key(path: Path, source: PassphraseSource) -> SigningKey:
    read_public_key(path)  # a missing or malformed file is refused before any prompt
    return read_key_file(path, source(str(path)))


def load_online_key(
    key_file: Path | None, key_env: str | None, source: PassphraseSource
) -> SigningKey:
    """The online key from ``--online-key FILE`` or ``--online-key-env NAME`` (exactly one)."""
    if (key_file is None) == (key_env is None):
        raise click.UsageError("give exactly one of --online-key FILE, --online-key-env NAME")
    if key_file is not None:
        return open_key(key_file, source)
    assert key_env is not None
    text = os.environ.get(key_env)
    if not text:
        raise Refused(f"the environment variable {key_env} is not set or empty")
    return read_key_file(Path(f"${key_env}"), source(f"${key_env}"), source=text)
