"""``archy publish`` and ``archy refresh-timestamp``: put a threshold-signed event on an origin,
and keep its timestamp fresh.

Publishing writes targets, targets metadata, snapshot and timestamp in the order
nodes need them, then the storefront (read back through the TUF chain), then tells
any ``--seed`` what it lacks.  The origin is ``file://DIR`` or ``s3://BUCKET/PREFIX``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.ceremony.event import CeremonyError
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.keystore import KeyFileError
from pipeline.ceremony.state import CeremonyState
from pipeline.commands.console import stdout
from pipeline.commands.keys import load_online_key, passphrases, utc_now
from pipeline.commands.options import (
    ceremony_option,
    destination_option,
    dist_option,
    json_option,
    online_key_options,
    s3_endpoint_option,
)
from pipeline.commands.refusing import refusing
from pipeline.publish.origin import OriginError, PublishError, origin_for_url
from pipeline.publish.seed_push import SeedPushError, push_to_seed
from pipeline.publish.signed_repository import PublishReport, refresh_timestamp
from pipeline.storefront.publish_step import publish_storefront
from pipeline.storefront.verified_repository import StorefrontSourceError


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
@destination_option
@ceremony_option()
@click.option("--event", "event_id", help="The targets event to publish (default: the newest).")
@dist_option("The build outputs the event signed.", "dist_dir")
@s3_endpoint_option
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
@json_option()
@refusing(
    CeremonyError, KeyFileError, PublishError, OriginError, SeedPushError, StorefrontSourceError
)
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
    key = load_online_key(online_key, online_key_env, passphrases(passphrase_file, passphrase_env))
    state = CeremonyState(ceremony_dir)
    report = publish_signing_event(state, event_id, dist_dir, origin, key, utc_now())
    if not as_json:
        _print_report(report)
    shop = publish_storefront(origin, state.roots()[-1].to_bytes(), utc_now())
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
@destination_option
@ceremony_option("For the expiry periods.")
@s3_endpoint_option
@online_key_options
@json_option()
@refusing(CeremonyError, KeyFileError, PublishError, OriginError)
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
    key = load_online_key(online_key, online_key_env, passphrases(passphrase_file, passphrase_env))
    report = refresh_timestamp(
        origin, key, utc_now(), settings.expiry("snapshot"), settings.expiry("timestamp")
    )
    if as_json:
        click.echo(json.dumps(_report_document(report)))
        return
    _print_report(report)
