"""``archy dev``: the third-party developer's identity and announcements (thin click commands).

``keygen`` makes an identity (pipeline/market/identity.py), ``whoami`` prints its
public part, ``announce`` sends one NIP-78 event per app (pipeline/market/announce.py),
``endorse`` and ``report`` send claims about another developer's app, ``revoke``
revokes the identity's did:key (pipeline/market/revoke.py).
Refusals are :class:`catalog.refusal.Refused`, printed once by the ``archy`` group.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from pydantic import ValidationError

from catalog.announcement import (
    ENDORSEMENT_HASHTAG,
    REPORT_HASHTAG,
    Endorsement,
    Report,
)
from pipeline.ceremony.keystore import KdfCost, KeyFileError
from pipeline.ceremony.passphrase import new_passphrase_problem, passphrase_source
from pipeline.commands.keys import open_developer_identity
from pipeline.commands.options import json_option, passphrase_options
from pipeline.market.announce import (
    AnnounceRefused,
    announcement_event_json,
    announcements,
    claim_event_json,
    send_events,
)
from pipeline.market.identity import (
    IdentityError,
    create_identity,
    default_identity_dir,
    read_public_identity,
)
from pipeline.market.revoke import (
    check_reason,
    make_revocation,
    read_certificate,
    record_revoked,
    revocation_event_json,
    revoked_identity,
    save_certificate,
)

dir_option = click.option(
    "--dir",
    "identity_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=default_identity_dir,
    show_default="$ARCHY_DEV_DIR or ~/.config/archy/developer",
    help="The identity directory.",
)


def _passphrase(purpose: str, passphrase_file: Path | None, passphrase_env: str | None) -> bytes:
    try:
        return passphrase_source(passphrase_file, passphrase_env, dict(os.environ))(purpose)
    except KeyFileError as error:
        raise IdentityError(str(error)) from None


@click.group("dev")
def dev() -> None:
    """A third-party developer's identity (did:key + Nostr key) and app announcements."""


@dev.command("keygen")
@dir_option
@click.option(
    "--kdf-cost",
    type=click.Choice(["moderate", "interactive"]),
    default="moderate",
    show_default=True,
    help="Argon2id cost; 'interactive' only for throwaway identities.",
)
@passphrase_options
@json_option()
def keygen(
    identity_dir: Path,
    kdf_cost: str,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Create a developer identity: an Ed25519 did:key and a Nostr key, both encrypted
    (0600) under one passphrase, and their public binding (identity.json)."""
    if passphrase_file is None and passphrase_env is None:
        text = click.prompt(
            f"New passphrase for {identity_dir}", hide_input=True, confirmation_prompt=True,
            err=True,
        )  # fmt: skip
        passphrase = text.encode()
    else:
        passphrase = _passphrase(str(identity_dir), passphrase_file, passphrase_env)
    problem = new_passphrase_problem(passphrase)
    if problem is not None:
        raise IdentityError(f"{identity_dir}: {problem} (nothing was written)")
    public = create_identity(identity_dir, passphrase, KdfCost[kdf_cost.upper()])
    if as_json:
        click.echo(json.dumps({"ok": True, "dir": str(identity_dir), **public.to_json()}))
        return
    click.echo(f"created {identity_dir}")
    click.echo(f"did:key  {public.did}")
    click.echo(f"npub     {public.npub}")


@dev.command("whoami")
@dir_option
@json_option()
def whoami(identity_dir: Path, as_json: bool) -> None:
    """Print the identity's did:key and npub (after checking their binding); no passphrase."""
    public = read_public_identity(identity_dir)
    if as_json:
        click.echo(json.dumps(public.to_json(), sort_keys=True))
        return
    click.echo(f"did:key  {public.did}")
    click.echo(f"npub     {public.npub}")
    click.echo("binding  verified (the did:key signs that this npub announces for it)")


@dev.command("announce")
@dir_option
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="The registry's built app-catalog.json (every entry signed by this identity).",
)
@click.option(
    "--root",
    "root_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="The registry's root a node should start from (metadata/N.root.json).",
)
@click.option("--registry", required=True, help="The registry's name (like an app id).")
@click.option("--origin", "origins", multiple=True, required=True, help="An origin URL (repeat).")
@click.option("--relay", "relays", multiple=True, required=True, help="A relay ws:// URL (repeat).")
@click.option("--app", "app_ids", multiple=True, help="Announce only this app (repeat).")
@passphrase_options
@json_option()
def announce(
    identity_dir: Path,
    catalog_file: Path,
    root_file: Path,
    registry: str,
    origins: tuple[str, ...],
    relays: tuple[str, ...],
    app_ids: tuple[str, ...],
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Announce each app of the registry on the relays (NIP-78, kind 30078)."""
    public = read_public_identity(identity_dir)
    revoked = revoked_identity(identity_dir)
    if revoked is not None:
        raise IdentityError(
            f"{identity_dir}: this identity's did:key was revoked ({revoked}); "
            "nothing was announced",
            hint="make a new identity with `archy dev keygen --dir NEW_DIR`",
        )
    contents = announcements(
        catalog_file.read_bytes(),
        root_file.read_bytes(),
        registry,
        list(origins),
        public,
        list(app_ids) or None,
        where=(str(catalog_file), str(root_file)),
    )
    identity = open_developer_identity(identity_dir, passphrase_file, passphrase_env)
    outcomes = send_events([announcement_event_json(c, identity) for c in contents], list(relays))
    if as_json:
        document = [
            {"d": o.d_tag, "event": o.event_id, "accepted_by": o.accepted_by} for o in outcomes
        ]
        click.echo(json.dumps({"ok": True, "announced": document}, sort_keys=True))
        return
    for outcome in outcomes:
        click.echo(f"announced {outcome.d_tag} ({len(outcome.accepted_by)} relay(s))")


def _claim(kind: type[Endorsement] | type[Report], **fields: str) -> Endorsement | Report:
    try:
        return kind.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AnnounceRefused(f"{where}: {first['msg']}") from None


def _send_claim(
    claim: Endorsement | Report,
    hashtag: str,
    identity_dir: Path,
    relays: tuple[str, ...],
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    identity = open_developer_identity(identity_dir, passphrase_file, passphrase_env)
    [outcome] = send_events([claim_event_json(claim, hashtag, identity)], list(relays))
    if as_json:
        click.echo(json.dumps({"ok": True, "d": outcome.d_tag, "event": outcome.event_id}))
        return
    click.echo(f"sent {outcome.d_tag} ({len(outcome.accepted_by)} relay(s))")


@dev.command("endorse")
@click.argument("did")
@click.argument("app_id", metavar="APP")
@click.option("--relay", "relays", multiple=True, required=True, help="A relay ws:// URL (repeat).")
@dir_option
@passphrase_options
@json_option()
def endorse(
    did: str,
    app_id: str,
    relays: tuple[str, ...],
    identity_dir: Path,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Endorse APP by the developer DID (a did:key), signed with your Nostr key."""
    claim = _claim(Endorsement, did=did, app=app_id)
    _send_claim(claim, ENDORSEMENT_HASHTAG, identity_dir, relays, passphrase_file,
                passphrase_env, as_json)  # fmt: skip


@dev.command("report")
@click.argument("did")
@click.argument("app_id", metavar="APP")
@click.option("--reason", required=True, help="Why (at most 500 characters; public).")
@click.option("--relay", "relays", multiple=True, required=True, help="A relay ws:// URL (repeat).")
@dir_option
@passphrase_options
@json_option()
def report(
    did: str,
    app_id: str,
    reason: str,
    relays: tuple[str, ...],
    identity_dir: Path,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Report APP by the developer DID, signed with your Nostr key (counts for those who
    follow you)."""
    claim = _claim(Report, did=did, app=app_id, reason=reason)
    _send_claim(claim, REPORT_HASHTAG, identity_dir, relays, passphrase_file,
                passphrase_env, as_json)  # fmt: skip


@dev.command("revoke")
@click.option("--reason", help="Why the did:key is revoked (1 to 500 characters; public).")
@click.option("--relay", "relays", multiple=True, help="A relay ws:// URL (repeat).")
@click.option(
    "--certificate-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Only make a revocation certificate into this new file (send nothing); keep it "
    "offline for the day the key is lost or stolen.",
)
@click.option(
    "--certificate",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Send a certificate made before (no identity or passphrase needed).",
)
@dir_option
@passphrase_options
@json_option()
def revoke(
    reason: str | None,
    relays: tuple[str, ...],
    certificate_out: Path | None,
    certificate: Path | None,
    identity_dir: Path,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Revoke this identity's did:key: nodes that see it stop offering its apps and updates.

    The revocation is signed by the did:key itself and is permanent.  With
    --certificate-out it is only written to a file, to send later with --certificate.
    """
    if certificate is not None and (certificate_out is not None or reason is not None):
        raise click.UsageError("--certificate sends a certificate as it is: no --reason, "
                               "no --certificate-out")  # fmt: skip
    if certificate is None and reason is None:
        raise click.UsageError("give --reason (or --certificate FILE)")
    if certificate_out is None and not relays:
        raise click.UsageError("give --relay URL (or --certificate-out FILE)")
    if certificate_out is not None and relays:
        raise click.UsageError("--certificate-out sends nothing: no --relay")
    if certificate is not None:
        revocation = read_certificate(certificate)
        [outcome] = send_events([revocation_event_json(revocation, None)], list(relays))
    else:
        assert reason is not None
        check_reason(reason)
        if certificate_out is not None and certificate_out.exists():
            raise IdentityError(f"{certificate_out}: already exists; nothing was written")
        identity = open_developer_identity(identity_dir, passphrase_file, passphrase_env)
        revocation = make_revocation(identity, reason)
        if certificate_out is not None:
            save_certificate(certificate_out, revocation)
            if as_json:
                click.echo(json.dumps({"ok": True, "did": revocation.did,
                                       "certificate": str(certificate_out)}))  # fmt: skip
                return
            click.echo(f"wrote a revocation certificate for {revocation.did} to {certificate_out}")
            click.echo("keep it offline; send it with `archy dev revoke --certificate FILE "
                       "--relay URL`")  # fmt: skip
            return
        [outcome] = send_events([revocation_event_json(revocation, identity)], list(relays))
        record_revoked(identity_dir, revocation)
    if as_json:
        click.echo(json.dumps({"ok": True, "did": revocation.did, "d": outcome.d_tag,
                               "event": outcome.event_id,
                               "accepted_by": outcome.accepted_by}))  # fmt: skip
        return
    click.echo(f"revoked {revocation.did} ({len(outcome.accepted_by)} relay(s))")
