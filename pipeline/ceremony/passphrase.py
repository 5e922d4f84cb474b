"""Where a key's passphrase comes from: a file, an environment variable, or a prompt.

Never from a command-line argument value (it would land in shell history and
in ``ps``).  The environment variable is for tests and CI; people are
prompted, once per key file, with the input hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from pipeline.ceremony.keystore import KeyFileError

PassphraseSource = Callable[[str], bytes]
"""Given what the passphrase is for (a key file's name), return it."""

MINIMUM_NEW_PASSPHRASE_LENGTH = 12
COMMON_PASSPHRASES = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "111111111111",
        "000000000000",
        "123123123123",
        "abc123abc123",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password123!",
        "passwordpassword",
        "mypassword123",
        "iloveyou1234",
        "letmeinletmein",
        "administrator",
        "welcome12345",
        "changeme1234",
        "passphrase123",
        "correct horse battery staple",
        "correcthorsebatterystaple",
        "the quick brown fox",
        "thequickbrownfox",
        "archipelago123",
        "bitcoinbitcoin",
    }
)
"""Passphrases of 12 characters or more that lists of leaked passwords rank among the
most common; a new offline key may not use one (compared case-insensitively)."""


def new_passphrase_problem(passphrase: bytes) -> str | None:
    """Why ``passphrase`` may not protect a new offline key, or None when it may."""
    try:
        text = passphrase.decode("utf-8")
    except UnicodeDecodeError:
        return "the passphrase is not UTF-8 text"
    if len(text) < MINIMUM_NEW_PASSPHRASE_LENGTH:
        return (
            f"the passphrase has {len(text)} character{'' if len(text) == 1 else 's'}; "
            f"a new key's passphrase needs at least {MINIMUM_NEW_PASSPHRASE_LENGTH}"
        )
    if text.strip().lower() in COMMON_PASSPHRASES:
        return "the passphrase is one of the most common ones; choose another"
    return None


def _strip_newline(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\n") else data


def passphrase_source(
    passphrase_file: Path | None, passphrase_env: str | None, environ: dict[str, str]
) -> PassphraseSource:
    """The passphrase for every key: from ``passphrase_file``, ``$passphrase_env``, or a prompt."""
    if passphrase_file is not None and passphrase_env is not None:
        raise click.UsageError("give --passphrase-file or --passphrase-env, not both")
    if passphrase_file is not None:
        try:
            fixed = _strip_newline(passphrase_file.read_bytes())
        except OSError as error:
            raise KeyFileError(
                f"{passphrase_file}: cannot read the passphrase file ({error.strerror})"
            ) from None
        return lambda _purpose: fixed
    if passphrase_env is not None:
        value = environ.get(passphrase_env)
        if not value:
            raise KeyFileError(f"the environment variable {passphrase_env} is not set or empty")
        return lambda _purpose: value.encode()

    def prompt(purpose: str) -> bytes:
        text: str = click.prompt(f"Passphrase for {purpose}", hide_input=True, err=True)
        return text.encode()

    return prompt
