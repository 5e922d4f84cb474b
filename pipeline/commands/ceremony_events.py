"""``archy ceremony open`` and ``archy ceremony sign``: a signing event for a build, and a
maintainer's offline signature on it.

Signing shows what the event changes — computed from its signed metadata, every
manifest checked and every unit re-rendered — and asks before it signs.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.refusal import Refused
from pipeline.ceremony.event import (
    CeremonyError,
    EventStatus,
    UnchangedCatalogError,
    check_key_may_sign,
    check_signable,
    check_still_pending,
)
from pipeline.ceremony.keystore import KeyFileError
from pipeline.ceremony.review import review_event
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.commands.console import stderr, stdout
from pipeline.commands.keys import open_key, passphrases, utc_now
from pipeline.commands.options import (
    ceremony_dir_option,
    dist_option,
    json_option,
    passphrase_options,
)
from pipeline.commands.refusing import refusing
from signing.metadata_fields import format_expires


@click.command("open")
@ceremony_dir_option
@dist_option("The build outputs (archy build).", "dist_dir")
@click.option(
    "--renew",
    is_flag=True,
    help="Open the event even if the catalog is unchanged (to re-sign before targets expires).",
)
@click.option(
    "--skip-unchanged",
    is_flag=True,
    help="Exit 0 without an event when the catalog is unchanged (for CI on merges that "
    "change no app); --json then prints an event_id of null.",
)
@json_option("Print the event id, path and review as JSON.")
@refusing(CeremonyError)
def open_event(
    ceremony_dir: Path, dist_dir: Path, renew: bool, skip_unchanged: bool, as_json: bool
) -> None:
    """Open a signing event for the build in --dist: the next targets metadata and its diff.

    Every embedded manifest is checked again and every unit re-rendered first;
    the diff is computed against the last accepted catalog.  An unchanged
    catalog is refused (exit 1) unless --renew or --skip-unchanged says otherwise.
    """
    state = CeremonyState(ceremony_dir)
    try:
        event, review = open_catalog_event(state, dist_dir, utc_now(), renew=renew)
    except UnchangedCatalogError as unchanged:
        if not skip_unchanged:
            raise
        if as_json:
            click.echo(json.dumps({"event_id": None, "unchanged": True, "reason": str(unchanged)}))
        else:
            stdout.print(f"skipped: {unchanged}", markup=False)
        return
    directory = state.event_dir(event.event_id)
    if as_json:
        document = {"event_id": event.event_id, "path": str(directory), "review": review.lines}
        click.echo(json.dumps(document))
        return
    stdout.print(f"opened signing event {event.event_id} in {directory}", markup=False)
    stdout.print(review.text, markup=False, end="")
    stdout.print(
        f"expires {format_expires(event.record.expires)}; each maintainer runs "
        f"`archy ceremony sign --event {event.event_id} --key KEYFILE`",
        markup=False,
    )


@click.command("sign")
@ceremony_dir_option
@click.option("--event", "event_id", help="The event to sign (default: the newest).")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Your private key file.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation after showing the diff.")
@passphrase_options
@json_option("Print the review and the result as JSON (use --yes).")
@refusing(CeremonyError, KeyFileError)
def sign(
    ceremony_dir: Path,
    event_id: str | None,
    key_file: Path,
    yes: bool,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Check the event, show what it changes, ask for confirmation, and sign it (offline).

    Your key is opened and checked against the event's roles first; then the
    event is checked from its signed metadata (catalog bytes, every manifest,
    every unit re-rendered) and its diff computed — never read from a file.
    """
    state = CeremonyState(ceremony_dir)
    event = state.load_event(event_id or state.latest_event_id())
    check_signable(event, utc_now())
    check_still_pending(event, state.trusted_root())
    key = open_key(key_file, passphrases(passphrase_file, passphrase_env))
    check_key_may_sign(event, key, state.trusted_root())
    review = review_event(state, event)
    shown = stderr if as_json else stdout  # with --json, stdout holds only the JSON document
    shown.print(
        f"signing event {event.event_id} ({event.record.role} v{event.record.version}):",
        markup=False,
    )
    shown.print(review.text, markup=False, end="")
    if not yes and not click.confirm("Sign this?", default=False, err=True):
        raise Refused("not signed")
    status = sign_event(state, event.event_id, key, utc_now(), event.content_blake3)
    if as_json:
        document = {
            "ok": True,
            "event_id": event.event_id,
            "keyid": key.keyid,
            "threshold_met": status.threshold_met,
            "quorums": [
                {
                    "role": quorum.quorum.label,
                    "signed_by": sorted(quorum.signed_by),
                    "threshold": quorum.quorum.threshold,
                    "met": quorum.met,
                }
                for quorum in status.quorums
            ],
            "review": list(review.lines),
        }
        click.echo(json.dumps(document))
        return
    stdout.print(f"signed {event.event_id} with key {key.keyid[:16]}…", markup=False)
    _print_status(status)


def _print_status(status: EventStatus) -> None:
    for quorum in status.quorums:
        mark = "[green]met[/green]" if quorum.met else "[yellow]not met[/yellow]"
        stdout.print(
            f"  {quorum.quorum.label}: {len(quorum.signed_by)} of {quorum.quorum.threshold} "
            f"needed — {mark}"
        )
    if status.foreign_signatures:
        ignored = ", ".join(k[:16] + "…" for k in status.foreign_signatures)
        stdout.print(
            f"  ignored signatures (not by a key of the role, or invalid): {ignored}", markup=False
        )
