"""``archy ceremony``: the maintainers' offline signing ceremony — keys, the first root,
root rotation; signing events (``open``, ``sign``) and ``status`` are their own modules.

Passphrases come from ``--passphrase-file``, ``--passphrase-env NAME`` (the *name*
of a variable, for tests and CI) or a hidden prompt, never from an argument value.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.refusal import Refused
from pipeline.ceremony.event import CeremonyError
from pipeline.ceremony.keystore import (
    KdfCost,
    KeyFileError,
    read_public_key,
    write_key_file,
    write_public_key_file,
)
from pipeline.ceremony.passphrase import new_passphrase_problem
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import init_ceremony, open_root_rotation
from pipeline.commands.ceremony_events import open_event, sign
from pipeline.commands.ceremony_status import status
from pipeline.commands.console import stdout
from pipeline.commands.keys import open_key, passphrases, utc_now
from pipeline.commands.options import ceremony_dir_option, json_option, passphrase_options
from pipeline.commands.refusing import refusing
from signing.keys import SigningKey
from signing.metadata_fields import format_expires


@click.group("ceremony")
def ceremony() -> None:
    """The maintainers' offline signing ceremony: keys, events, signatures, root rotation."""


@click.command("keygen")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option(
    "--kdf-cost",
    type=click.Choice(["moderate", "interactive"]),
    default="moderate",
    show_default=True,
    help="Argon2id cost; 'interactive' only for throwaway dev keys.",
)
@passphrase_options
@json_option()
@refusing(KeyFileError)
def keygen(
    out: Path,
    kdf_cost: str,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Create a new Ed25519 key in OUT (encrypted, 0600) and OUT.pub (public part).

    The passphrase needs at least 12 characters and may not be one of the most
    common ones.
    """
    if passphrase_file is None and passphrase_env is None:
        text = click.prompt(
            f"New passphrase for {out}", hide_input=True, confirmation_prompt=True, err=True
        )
        passphrase = text.encode()
    else:
        passphrase = passphrases(passphrase_file, passphrase_env)(str(out))
    problem = new_passphrase_problem(passphrase)
    if problem is not None:
        raise Refused(f"{out}: {problem} (nothing was written)")
    key = SigningKey.generate()
    write_key_file(out, key, passphrase, KdfCost[kdf_cost.upper()])
    write_public_key_file(out.with_name(out.name + ".pub"), key.public_key)
    if as_json:
        document = {"ok": True, "key_file": str(out), "keyid": key.keyid}
        click.echo(json.dumps({**document, "public_key_file": f"{out}.pub"}))
        return
    stdout.print(f"created {out} (keyid {key.keyid})", markup=False)


def _parse_expiry(values: tuple[str, ...]) -> dict[str, int]:
    result = {}
    for value in values:
        role, _, days = value.partition("=")
        if role not in ("root", "targets", "snapshot", "timestamp") or not days.isdigit():
            raise click.BadParameter(f"{value!r}: use ROLE=DAYS, e.g. targets=90")
        result[role] = int(days)
    return result


@click.command("init")
@ceremony_dir_option
@click.option(
    "--root-key",
    "root_keys",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A root key file (private to sign root v1, or .pub); repeat for n keys.",
)
@click.option("--root-threshold", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--targets-key",
    "targets_keys",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A targets key file (or .pub); repeat.",
)
@click.option("--targets-threshold", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--online-key",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="CI's snapshot and timestamp key (or its .pub).",
)
@click.option(
    "--expiry",
    "expiry",
    multiple=True,
    metavar="ROLE=DAYS",
    help="Override an expiry period, e.g. targets=90.",
)
@passphrase_options
@json_option()
@refusing(CeremonyError, KeyFileError)
def init(
    ceremony_dir: Path,
    root_keys: tuple[Path, ...],
    root_threshold: int,
    targets_keys: tuple[Path, ...],
    targets_threshold: int,
    online_key: Path,
    expiry: tuple[str, ...],
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Create the ceremony: root v1 with k-of-n root and targets keys and the online key."""
    expiry_days = _parse_expiry(expiry)
    online = read_public_key(online_key)
    role_keys = {
        "root": [read_public_key(path) for path in root_keys],
        "targets": [read_public_key(path) for path in targets_keys],
        "snapshot": [online],
        "timestamp": [online],
    }
    source = passphrases(passphrase_file, passphrase_env)
    private_root_files = [p for p in root_keys if not p.name.endswith(".pub")]
    signers = [open_key(path, source) for path in private_root_files[:root_threshold]]
    state = CeremonyState(ceremony_dir)
    root = init_ceremony(
        state,
        role_keys,
        {"root": root_threshold, "targets": targets_threshold},
        signers,
        utc_now(),
        expiry_days,
    )
    if as_json:
        document = {
            "ok": True,
            "root": str(state.metadata_dir / "1.root.json"),
            "root_keys": len(root_keys),
            "root_threshold": root_threshold,
            "targets_keys": len(targets_keys),
            "targets_threshold": targets_threshold,
            "expires": format_expires(root.signed.expires),
        }
        click.echo(json.dumps(document))
        return
    stdout.print(
        f"created {state.metadata_dir / '1.root.json'}: root {root_threshold}-of-"
        f"{len(root_keys)}, targets {targets_threshold}-of-{len(targets_keys)}, "
        f"expires {format_expires(root.signed.expires)}",
        markup=False,
    )


@click.command("rotate-root")
@ceremony_dir_option
@click.option("--add-root-key", multiple=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--remove-root-key", multiple=True, metavar="KEYID")
@click.option("--root-threshold", type=click.IntRange(1))
@click.option("--add-targets-key", multiple=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--remove-targets-key", multiple=True, metavar="KEYID")
@click.option("--targets-threshold", type=click.IntRange(1))
@refusing(CeremonyError, KeyFileError)
def rotate_root(
    ceremony_dir: Path,
    add_root_key: tuple[Path, ...],
    remove_root_key: tuple[str, ...],
    root_threshold: int | None,
    add_targets_key: tuple[Path, ...],
    remove_targets_key: tuple[str, ...],
    targets_threshold: int | None,
) -> None:
    """Open a root rotation event; it takes effect once old and new root thresholds sign it."""
    state = CeremonyState(ceremony_dir)
    thresholds = {
        role: value
        for role, value in (("root", root_threshold), ("targets", targets_threshold))
        if value is not None
    }
    event, review = open_root_rotation(
        state,
        {
            "root": [read_public_key(p) for p in add_root_key],
            "targets": [read_public_key(p) for p in add_targets_key],
        },
        {"root": list(remove_root_key), "targets": list(remove_targets_key)},
        thresholds,
        utc_now(),
    )
    stdout.print(f"opened root rotation {event.event_id}", markup=False)
    stdout.print(review.text, markup=False, end="")
    stdout.print(
        "it needs the threshold of the current root keys and of the new root keys: "
        f"`archy ceremony sign --event {event.event_id} --key KEYFILE`",
        markup=False,
    )


for command in (keygen, init, open_event, sign, status, rotate_root):
    ceremony.add_command(command)
