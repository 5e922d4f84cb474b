"""``archy-node discover``: list the apps announced on Nostr relays that verify, with their
trust score and the lines behind it (thin click command over node_runtime.market.discover).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from catalog.address import blake3_hex
from catalog.refusal import Refused
from node_runtime.market.discover import OwnerTrust, discover
from node_runtime.market.relays import public_key_hex
from node_runtime.store.node_config import DEFAULT_STATE_ROOT, STATE_ROOT_ENV
from signing.did_key import DidKeyError, parse_did_key


def _trust(
    owner: str | None, trusted_dids: tuple[str, ...], official_roots: tuple[Path, ...],
    state_root: Path,
) -> OwnerTrust:  # fmt: skip
    for did in trusted_dids:
        try:
            parse_did_key(did)
        except DidKeyError as error:
            raise Refused(f"--trust-did {did[:70]}: {error}") from None
    fingerprints = set()
    for path in (*official_roots, state_root / "trust" / "root.json"):
        try:
            fingerprints.add(blake3_hex(path.read_bytes()))
        except FileNotFoundError:
            if path in official_roots:
                raise Refused(f"--official-root {path}: no such file") from None
        except OSError as error:
            raise Refused(f"{path}: cannot read ({error.strerror})") from None
    return OwnerTrust(
        owner_pubkey=None if owner is None else public_key_hex(owner),
        trusted_dids=frozenset(trusted_dids),
        official_roots=frozenset(fingerprints),
    )


@click.command("discover")
@click.option("--relay", "relays", multiple=True, required=True, help="A relay ws:// URL (repeat).")
@click.option("--owner", help="Your Nostr public key (npub… or hex): whose follows count.")
@click.option("--trust-did", "trusted_dids", multiple=True, help="A did:key you trust (repeat).")
@click.option(
    "--official-root",
    "official_roots",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A root file of a registry you trust as official (repeat); the node's own counts too.",
)
@click.option(
    "--state-root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_ROOT_ENV,
    default=DEFAULT_STATE_ROOT,
    show_default=True,
    help=f"The node's state directory (or ${STATE_ROOT_ENV}); first-seen times, revocations "
    "and each registry's trusted metadata are kept there.",
)
@click.option(
    "--allow-file-origins",
    is_flag=True,
    help="Accept file:// origins in announcements (local tests and demos only).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10,
    show_default=True,
    help="Seconds a relay may take to connect, and then to answer; discover returns as soon "
    "as every relay answered or failed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def discover_command(
    relays: tuple[str, ...],
    owner: str | None,
    trusted_dids: tuple[str, ...],
    official_roots: tuple[Path, ...],
    state_root: Path,
    allow_file_origins: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """List the apps announced on the relays whose every claim verifies, with trust scores.

    Each announcement is checked against its registry's signed metadata (root
    fingerprint, TUF chain, catalog BLAKE3, version, the developer's did:key signature
    and its binding to the Nostr key) before it is listed; the rest are listed as
    rejected, with the reason.  Apps whose developer revoked their did:key are shown as
    revoked, with the developer's reason; the node remembers every revocation it saw.
    """
    try:
        trust = _trust(owner, trusted_dids, official_roots, state_root)
        with tempfile.TemporaryDirectory(prefix="archy-discover-") as work:
            report = discover(
                list(relays),
                Path(work),
                trust,
                datetime.now(UTC).replace(microsecond=0),
                state_root=Path(os.path.abspath(state_root)),
                allow_file_origins=allow_file_origins,
                timeout=timedelta(seconds=timeout),
            )
    except Refused as refusal:  # until archy-node's group maps refusals in one place
        for text in refusal.lines():
            click.echo(text, err=True)
        raise SystemExit(1) from None
    if as_json:
        document = {
            "apps": [each.to_json() for each in report.listings],
            "rejected": [{"event": r.event_id, "reason": r.reason} for r in report.rejected],
            "revoked": [each.to_json() for each in report.revoked],
            "bad_signatures": report.bad_signatures,
            "unreachable": report.unreachable,
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    if not report.listings and not report.revoked:
        click.echo("no verified apps announced on these relays")
    for each in report.listings:
        item = each.to_json()
        click.echo(
            f"{item['registry']}/{item['app']}  {item['version']}  score {each.score.total}"
            f"  by {item['did']}"
        )
        for line in each.score.lines:
            click.echo(f"    {line.points:+4d}  {line.fact}")
    for revoked in report.revoked:
        click.echo(f"{revoked.registry}/{revoked.app}  revoked: {revoked.revocation.why()}")
    for rejection in report.rejected:
        click.echo(f"rejected {rejection.event_id[:12]}: {rejection.reason}", err=True)
    for url, why in sorted(report.unreachable.items()):
        click.echo(f"relay {url} did not answer: {why}", err=True)
    if report.bad_signatures:
        click.echo(f"dropped {report.bad_signatures} event(s) with a bad signature", err=True)
