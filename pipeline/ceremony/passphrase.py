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
