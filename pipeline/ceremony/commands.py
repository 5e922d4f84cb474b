"""``archy ceremony …``, ``archy publish`` and ``archy refresh-timestamp``.

Thin commands: parse options, call one library step, print the result.
Passphrases come from ``--passphrase-file``, ``--passphrase-env NAME`` (the
*name* of a variable, for tests and CI) or a hidden prompt — never from an
argument value.  Exit 0 ok, 1 refused (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from catalog.address import blake3_hex
from pipeline.ceremony.event import (
    CeremonyError,
    EventStatus,
    check_intact,
    check_key_may_sign,
    check_signable,
    check_still_pending,
    event_status,
)
from pipeline.ceremony.keystore import (
    KdfCost,
    KeyFileError,
    read_key_file,
    read_public_key,
    write_key_file,
    write_public_key_file,
)
from pipeline.ceremony.passphrase import (
    PassphraseSource,
    new_passphrase_problem,
    passphrase_source,
)
from pipeline.ceremony.review import review_event
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import (
    init_ceremony,
    open_catalog_event,
    open_root_rotation,
    sign_event,
)
from pipeline.publish.event_publish import publish_signing_event
from pipeline.publish.file_origin import OriginError, origin_for_url
from pipeline.publish.seed_push import SeedPushError, push_to_seed
from pipeline.publish.signed_repository import PublishError, PublishReport, refresh_timestamp
from pipeline.publish.storefront_step import publish_storefront
from pipeline.storefront.verified_repository import StorefrontSourceError
from pipeline.tables import print_table, short_id
from signing.keys import SigningKey
from signing.metadata import format_expires

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_CEREMONY_DIR = Path("ceremony")
REFUSALS = (
    CeremonyError, KeyFileError, PublishError, OriginError, SeedPushError, StorefrontSourceError
)  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])


def _now() -> datetime:
    return datetime.now(UTC)


def _refuse(error: Exception) -> None:
    stderr.print(f"error: {error}", style="red", markup=False)
    sys.exit(1)


def refusing(function: F) -> F:
    """Turn the library's refusals into a one-line error and exit 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except REFUSALS as error:
            if kwargs.get("as_json"):
                click.echo(json.dumps({"ok": False, "error": str(error)}))
            _refuse(error)

    return wrapper  # type: ignore[return-value]


def passphrase_options(function: F) -> F:
    function = click.option(
        "--passphrase-env",
        metavar="NAME",
        help="Read passphrases from the environment variable NAME (tests, CI).",
    )(function)
    return click.option(
        "--passphrase-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Read passphrases from this file (first line).",
    )(function)


def _passphrases(passphrase_file: Path | None, passphrase_env: str | None) -> PassphraseSource:
    return passphrase_source(passphrase_file, passphrase_env, dict(os.environ))


def _open_key(path: Path, passphrases: PassphraseSource) -> SigningKey:
    read_public_key(path)  # a missing or malformed file is refused before any prompt
    return read_key_file(path, passphrases(str(path)))


ceremony_dir_option = click.option(
    "--dir",
    "ceremony_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_CEREMONY_DIR,
    show_default=True,
    help="The ceremony directory (trusted roots and signing events).",
)


@click.group("ceremony")
def ceremony() -> None:
    """The maintainers' offline signing ceremony: keys, events, signatures, root rotation."""


@ceremony.command("keygen")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option(
    "--kdf-cost",
    type=click.Choice(["moderate", "interactive"]),
    default="moderate",
    show_default=True,
    help="Argon2id cost; 'interactive' only for throwaway dev keys.",
)
@passphrase_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@refusing
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
        passphrase = _passphrases(passphrase_file, passphrase_env)(str(out))
    problem = new_passphrase_problem(passphrase)
    if problem is not None:
        raise KeyFileError(f"{out}: {problem} (nothing was written)")
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


@ceremony.command("init")
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@refusing
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
    passphrases = _passphrases(passphrase_file, passphrase_env)
    private_root_files = [p for p in root_keys if not p.name.endswith(".pub")]
    signers = [_open_key(path, passphrases) for path in private_root_files[:root_threshold]]
    state = CeremonyState(ceremony_dir)
    root = init_ceremony(
        state,
        role_keys,
        {"root": root_threshold, "targets": targets_threshold},
        signers,
        _now(),
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


@ceremony.command("open")
@ceremony_dir_option
@click.option(
    "--dist",
    "dist_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="The build outputs (archy build).",
)
@click.option(
    "--renew",
    is_flag=True,
    help="Open the event even if the catalog is unchanged (to re-sign before targets expires).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the event id, path and review as JSON."
)
@refusing
def open_event(ceremony_dir: Path, dist_dir: Path, renew: bool, as_json: bool) -> None:
    """Open a signing event for the build in --dist: the next targets metadata and its diff.

    Every embedded manifest is checked again and every unit re-rendered first;
    the diff is computed against the last accepted catalog.
    """
    state = CeremonyState(ceremony_dir)
    event, review = open_catalog_event(state, dist_dir, _now(), renew=renew)
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


@ceremony.command("sign")
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
@click.option(
    "--json", "as_json", is_flag=True, help="Print the review and the result as JSON (use --yes)."
)
@refusing
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
    check_signable(event, _now())
    check_still_pending(event, state.trusted_root())
    key = _open_key(key_file, _passphrases(passphrase_file, passphrase_env))
    check_key_may_sign(event, key, state.trusted_root())
    review = review_event(state, event)
    shown = stderr if as_json else stdout  # with --json, stdout holds only the JSON document
    shown.print(
        f"signing event {event.event_id} ({event.record.role} v{event.record.version}):",
        markup=False,
    )
    shown.print(review.text, markup=False, end="")
    if not yes and not click.confirm("Sign this?", default=False, err=True):
        raise CeremonyError("not signed")
    status = sign_event(state, event.event_id, key, _now(), blake3_hex(event.metadata.signed_bytes))
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


def _status_document(state: CeremonyState, status: EventStatus, now: datetime) -> dict[str, Any]:
    try:
        check_intact(status.event)
        intact = True
    except CeremonyError:
        intact = False
    record = status.event.record
    return {
        "event_id": record.event_id,
        "role": record.role,
        "version": record.version,
        "intact": intact,
        "expired": now >= record.expires,
        "event_expires": format_expires(record.expires),
        "metadata_expires": format_expires(status.event.metadata.signed.expires),
        "threshold_met": intact and status.threshold_met,
        "quorums": [
            {
                "role": q.quorum.label,
                "threshold": q.quorum.threshold,
                "signed_by": list(q.signed_by),
                "missing": list(q.missing),
            }
            for q in status.quorums
        ],
        "ignored_signatures": list(status.foreign_signatures),
    }


@ceremony.command("status")
@ceremony_dir_option
@click.option("--event", "event_id", help="Only this event.")
@click.option("--json", "as_json", is_flag=True)
@refusing
def status(ceremony_dir: Path, event_id: str | None, as_json: bool) -> None:
    """Who signed each event, whether its threshold is met, and what expires when."""
    state = CeremonyState(ceremony_dir)
    roots = state.roots()
    root = roots[-1].signed
    now = _now()
    event_ids = [event_id] if event_id else state.event_ids()
    documents = []
    for each in event_ids:
        event = state.load_event(each)
        # A root event already in effect is judged by the root it replaced, as when it was signed.
        judged_by = root
        if event.record.role == "root" and event.record.version <= root.version:
            judged_by = next(
                (r.signed for r in roots if r.signed.version == event.record.version - 1), root
            )
        document = _status_document(state, event_status(event, judged_by), now)
        document["in_effect"] = event.record.role == "root" and (
            event.record.version <= root.version
        )
        documents.append(document)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "root_version": root.version,
                    "root_expires": format_expires(root.expires),
                    "events": documents,
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"Trusted root v{root.version}", title_justify="left")
    for column in ("role", "keys", "threshold"):
        table.add_column(column)
    for role_name, role in root.roles.items():
        table.add_row(
            role_name,
            ", ".join(short_id(k, 12, stdout) for k in role.keyids),
            str(role.threshold),
        )
    print_table(stdout, table)
    stdout.print(f"root v{root.version} expires {format_expires(root.expires)}", markup=False)
    events = Table(title="Signing events", title_justify="left")
    for column in ("event", "signatures", "threshold", "event expires", "metadata expires"):
        events.add_column(column)
    for document in documents:
        signatures = "; ".join(
            f"{q['role']}: {len(q['signed_by'])}/{q['threshold']}" for q in document["quorums"]
        )
        if not document["intact"]:
            verdict = "[red]altered[/red]"
        elif document["in_effect"]:
            verdict = "[green]in effect[/green]"
        elif document["threshold_met"]:
            verdict = "[green]met[/green]"
        elif document["expired"]:
            verdict = "[red]expired[/red]"
        else:
            verdict = "[yellow]not met[/yellow]"
        events.add_row(
            document["event_id"],
            signatures,
            verdict,
            document["event_expires"],
            document["metadata_expires"],
        )
    print_table(stdout, events)


@ceremony.command("rotate-root")
@ceremony_dir_option
@click.option("--add-root-key", multiple=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--remove-root-key", multiple=True, metavar="KEYID")
@click.option("--root-threshold", type=click.IntRange(1))
@click.option("--add-targets-key", multiple=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--remove-targets-key", multiple=True, metavar="KEYID")
@click.option("--targets-threshold", type=click.IntRange(1))
@refusing
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
        _now(),
    )
    stdout.print(f"opened root rotation {event.event_id}", markup=False)
    stdout.print(review.text, markup=False, end="")
    stdout.print(
        "it needs the threshold of the current root keys and of the new root keys: "
        f"`archy ceremony sign --event {event.event_id} --key KEYFILE`",
        markup=False,
    )


# --- publishing ---


def _load_online_key(
    key_file: Path | None, key_env: str | None, passphrases: PassphraseSource
) -> SigningKey:
    if (key_file is None) == (key_env is None):
        raise click.UsageError("give exactly one of --online-key FILE, --online-key-env NAME")
    if key_file is not None:
        return _open_key(key_file, passphrases)
    assert key_env is not None
    text = os.environ.get(key_env)
    if not text:
        raise KeyFileError(f"the environment variable {key_env} is not set or empty")
    return read_key_file(Path(f"${key_env}"), passphrases(f"${key_env}"), source=text)


def online_key_options(function: F) -> F:
    function = click.option(
        "--online-key-env",
        metavar="NAME",
        help="Environment variable holding the online key file's contents (CI).",
    )(function)
    function = click.option(
        "--online-key",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The online (snapshot and timestamp) key file.",
    )(function)
    return passphrase_options(function)


def _report_document(report: PublishReport) -> dict[str, Any]:
    return {
        "ok": True,
        "destination": report.destination,
        "up_to_date": report.up_to_date,
        "targets_version": report.targets_version,
        "snapshot_version": report.snapshot_version,
        "timestamp_version": report.timestamp_version,
        "written": list(report.written),
        "skipped": list(report.skipped),
    }


def _print_report(report: PublishReport) -> None:
    if report.up_to_date:
        stdout.print(
            f"{report.destination} already serves targets v{report.targets_version}: nothing to do",
            markup=False,
        )
        return
    stdout.print(
        f"published to {report.destination}: targets v{report.targets_version}, snapshot "
        f"v{report.snapshot_version}, timestamp v{report.timestamp_version} "
        f"({len(report.written)} files written, {len(report.skipped)} already there)",
        markup=False,
    )


@click.command("publish")
@click.option(
    "--to", "destination", required=True, help="The origin: file://DIR or s3://BUCKET/PREFIX."
)
@click.option(
    "--ceremony",
    "ceremony_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_CEREMONY_DIR,
    show_default=True,
)
@click.option("--event", "event_id", help="The targets event to publish (default: the newest).")
@click.option(
    "--dist",
    "dist_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="The build outputs the event signed.",
)
@click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL_S3",
    help="S3-compatible endpoint for s3:// origins (default: the AWS chain's).",
)
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    metavar="URL",
    help="After publishing, upload the new targets and metadata to this HTTP seed (repeatable).",
)
@click.option(
    "--seed-token-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The seeds' upload token (what they were started with).",
)
@online_key_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@refusing
def publish(
    destination: str,
    endpoint_url: str | None,
    ceremony_dir: Path,
    event_id: str | None,
    dist_dir: Path,
    seeds: tuple[str, ...],
    seed_token_file: Path | None,
    online_key: Path | None,
    online_key_env: str | None,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Publish a threshold-signed event: targets, targets metadata, snapshot, timestamp, then
    the storefront (index.html and store/, read back through the TUF chain).

    --to is file://DIR or s3://BUCKET/PREFIX.  With --seed, the seeds are sent
    what they lack once the publish has succeeded.
    """
    token = _seed_token(seeds, seed_token_file)
    origin = origin_for_url(destination, endpoint_url)
    key = _load_online_key(
        online_key, online_key_env, _passphrases(passphrase_file, passphrase_env)
    )
    state = CeremonyState(ceremony_dir)
    report = publish_signing_event(state, event_id, dist_dir, origin, key, _now())
    if not as_json:
        _print_report(report)
    shop = publish_storefront(origin, state.roots()[-1].to_bytes(), _now())
    document: dict[str, Any] = {
        **_report_document(report),
        "storefront": {
            "index": origin.describe("index.html"),
            "written": len(shop.written),
            "unchanged": len(shop.skipped),
        },
        "seeds": [],
    }
    if not as_json:
        stdout.print(
            f"storefront: {origin.describe('index.html')} ({len(shop.written)} files written, "
            f"{len(shop.skipped)} unchanged), after the timestamp",
            markup=False,
        )
    for seed_url in seeds:
        pushed = push_to_seed(origin, seed_url, token)
        document["seeds"].append(
            {
                "seed": pushed.seed,
                "uploaded": len(pushed.uploaded),
                "bytes_uploaded": pushed.bytes_uploaded,
                "already_held": pushed.already_held,
            }
        )
        if as_json:
            continue
        stdout.print(
            f"seed {pushed.seed}: {len(pushed.uploaded)} files uploaded "
            f"({pushed.bytes_uploaded} bytes of blobs), {pushed.already_held} blobs already held",
            markup=False,
        )
    if as_json:
        click.echo(json.dumps(document))


def _seed_token(seeds: tuple[str, ...], token_file: Path | None) -> str:
    if not seeds:
        return ""
    if token_file is None:
        raise click.UsageError("--seed needs --seed-token-file (the seeds' upload token)")
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"{token_file}: cannot read the token ({error})") from None
    for seed_url in seeds:
        if not seed_url.startswith(("http://", "https://")):
            raise click.UsageError(f"--seed {seed_url!r}: uploads go to an http(s):// seed")
    return token


@click.command("refresh-timestamp")
@click.option(
    "--to", "destination", required=True, help="The origin: file://DIR or s3://BUCKET/PREFIX."
)
@click.option(
    "--ceremony",
    "ceremony_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_CEREMONY_DIR,
    show_default=True,
    help="For the expiry periods.",
)
@click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL_S3",
    help="S3-compatible endpoint for s3:// origins (default: the AWS chain's).",
)
@online_key_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@refusing
def refresh_timestamp_command(
    destination: str,
    endpoint_url: str | None,
    ceremony_dir: Path,
    online_key: Path | None,
    online_key_env: str | None,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Re-sign the timestamp (and the snapshot when it is about to expire)."""
    settings = CeremonyState(ceremony_dir).settings
    origin = origin_for_url(destination, endpoint_url)
    key = _load_online_key(
        online_key, online_key_env, _passphrases(passphrase_file, passphrase_env)
    )
    report = refresh_timestamp(
        origin, key, _now(), settings.expiry("snapshot"), settings.expiry("timestamp")
    )
    if as_json:
        click.echo(json.dumps(_report_document(report)))
        return
    _print_report(report)
