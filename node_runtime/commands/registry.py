"""``archy-node registry add|list|set|remove`` and ``archy-node info``: thin click commands
over :mod:`node_runtime.registries`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.refusal import Refused
from node_runtime.commands.options import (
    json_option,
    print_json,
    require_node,
    state_root_hint,
    state_root_option,
)
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.registry_state import RegistryRecord, read_app_registries

if TYPE_CHECKING:
    from node_runtime.market.discover import RelayClaims


def _record_json(record: RegistryRecord, installed: list[str]) -> dict[str, object]:
    document = record.model_dump(mode="json", by_alias=True)
    document["installed"] = installed
    return document


def _capabilities(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@click.group("registry")
def registry() -> None:
    """The third-party registries this node trusts, each with its own root."""


@registry.command("add")
@click.argument("name")
@click.option("--origin", help="Where the registry is: file://, http(s)://, s3://.")
@click.option(
    "--root",
    "root_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The registry's root.json to trust (self-signed to its threshold).",
)
@click.option("--from-relay", "relays", multiple=True, help="Take origin and root from an "
              "announcement on this relay (repeatable); pulls ask it for revocations.")  # fmt: skip
@click.option("--announcement", help="The announcement's event id or d tag (with --from-relay).")
@click.option("--did", help="Require every entry to be signed by this did:key.")
@click.option("--seed", "seeds", multiple=True, help="A seed or mirror of its targets/ (repeat).")
@click.option("--s3-endpoint", help="The S3 endpoint for an s3:// origin.")
@click.option(
    "--allow-capabilities",
    help="Capabilities to record as shared (comma-separated). Kept, but no capability "
    "crosses registries: each registry's apps are on a network of their own (P034).",
)
@click.option("--min-score", type=int, help="Installs scoring below this need "
              "--i-trust-this-developer.")  # fmt: skip
@click.option("--allow-file-origins", is_flag=True, help="Accept a file:// origin in the "
              "announcement (local tests and demos).")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask to confirm the root and did:key.")
@json_option
@state_root_option
def add_command(
    name: str,
    origin: str | None,
    root_file: Path | None,
    relays: tuple[str, ...],
    announcement: str | None,
    did: str | None,
    seeds: tuple[str, ...],
    s3_endpoint: str | None,
    allow_capabilities: str | None,
    min_score: int | None,
    allow_file_origins: bool,
    yes: bool,
    as_json: bool,
    state_root: Path,
) -> None:
    """Add registry NAME: from --origin and --root, or from a verified announcement."""
    from node_runtime.registries.manage import add_registry, registries

    paths = NodePaths(state_root)
    require_node(paths, as_json)
    added_from = None
    if relays or announcement:
        if not (relays and announcement) or origin or root_file:
            raise click.UsageError("use --from-relay with --announcement, without --origin/--root")
    elif not (origin and root_file):
        raise click.UsageError("give --origin and --root, or --from-relay and --announcement")
    if relays and announcement:
        from node_runtime.registries.from_announcement import (
            fetch_announcement,
            mismatch_with_added,
        )

        verified = fetch_announcement(list(relays), announcement, allow_file_origins)
        problem = mismatch_with_added(verified, name, registries(paths))
        if problem is not None:
            raise Refused(problem)
        claim = verified.announcement
        origin, root_bytes, added_from = verified.origin, verified.root_bytes, claim.d_tag()
        if did is not None and did != claim.did:
            raise Refused(f"the announcement is by {claim.did}, not --did {did}")
        did = claim.did
        source = f"{origin}/metadata/{claim.root.version}.root.json"
        click.echo(
            f"registry {claim.registry} at {origin}\n"
            f"  root fingerprint (BLAKE3 of {claim.root.version}.root.json): {claim.root.blake3}\n"
            f"  developer: {claim.did}",
            err=as_json,
        )
        if not yes and not click.confirm(f"trust this root and developer as {name!r}?", err=True):
            raise Refused("not added (not confirmed)")
    else:
        assert root_file is not None and origin is not None
        try:
            root_bytes = root_file.read_bytes()
        except OSError as error:
            raise Refused(f"{root_file}: cannot read ({error.strerror})") from None
        source = str(root_file)
    record = add_registry(
        paths, name, root_bytes, origin, root_source=source, seeds=seeds,
        s3_endpoint=s3_endpoint, did=did, allow_capabilities=_capabilities(allow_capabilities)
        or (), min_score=min_score, added_from=added_from, relays=relays,
    )  # fmt: skip
    if as_json:
        print_json(_record_json(record, []))
        return
    click.echo(
        f"added registry {record.name}: origin {record.origin}, root {record.root_blake3[:16]}…; "
        f"next: archy-node pull{state_root_hint(state_root)}"
    )


@registry.command("list")
@json_option
@state_root_option
def list_command(as_json: bool, state_root: Path) -> None:
    """Every registry this node trusts, besides the official one."""
    from node_runtime.registries.manage import installed_apps_of, registries

    paths = NodePaths(state_root)
    require_node(paths, as_json)
    records = registries(paths)
    documents = [_record_json(record, installed_apps_of(paths, record.name)) for record in records]
    if as_json:
        print_json(documents)
        return
    if not records:
        click.echo("no third-party registries (the official one is always there)")
    for record in records:
        extra = [f"{len(installed_apps_of(paths, record.name))} app(s) installed"]
        if record.allow_capabilities:
            extra.append(f"allowed {','.join(record.allow_capabilities)} (none cross: P034)")
        if record.min_score is not None:
            extra.append(f"min score {record.min_score}")
        click.echo(
            f"{record.name:<20} {record.origin}  root {record.root_blake3[:16]}…  "
            + "; ".join(extra)
        )


@registry.command("set")
@click.argument("name")
@click.option("--allow-capabilities", help="Capabilities to record as shared (comma-separated; "
              "'' for none); no capability crosses registries (P034).")  # fmt: skip
@click.option("--min-score", type=int, help="The trust score its installs need.")
@click.option("--no-min-score", is_flag=True, help="No threshold.")
@click.option("--trust-developer", "trusted", multiple=True, help="A did:key you trust "
              "explicitly (repeatable).")  # fmt: skip
@click.option("--relay", "relays", multiple=True, help="A relay every pull asks for "
              "revocations of developer did:keys (repeatable; replaces the list).")  # fmt: skip
@json_option
@state_root_option
def set_command(
    name: str,
    allow_capabilities: str | None,
    min_score: int | None,
    no_min_score: bool,
    trusted: tuple[str, ...],
    relays: tuple[str, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Change what registry NAME's apps may share, and the score its installs need."""
    from node_runtime.registries.manage import installed_apps_of, set_registry

    paths = NodePaths(state_root)
    require_node(paths, as_json)
    record = set_registry(
        paths, name, _capabilities(allow_capabilities), min_score, no_min_score, trusted or None,
        relays or None,
    )  # fmt: skip
    if as_json:
        print_json(_record_json(record, installed_apps_of(paths, name)))
        return
    click.echo(
        f"registry {name}: allowed capabilities "
        f"{','.join(record.allow_capabilities) or 'none'} (none cross registries: P034); "
        f"min score {record.min_score if record.min_score is not None else 'none'}; "
        f"trusted developers: {', '.join(record.trusted_dids) or 'none'}"
    )


@registry.command("remove")
@click.argument("name")
@json_option
@state_root_option
def remove_command(name: str, as_json: bool, state_root: Path) -> None:
    """Forget registry NAME (refused while any of its apps is installed)."""
    from node_runtime.registries.manage import remove_registry

    paths = NodePaths(state_root)
    require_node(paths, as_json)
    record = remove_registry(paths, name)
    if as_json:
        print_json({"removed": record.name})
        return
    click.echo(f"removed registry {record.name} (its trust and catalog; app data is kept)")


@click.command("info")
@click.argument("reference", metavar="REGISTRY/APP")
@click.option(
    "--relay",
    "relays",
    multiple=True,
    help="A relay ws:// URL (repeat): add the endorsement and report lines it carries, "
    "checked as `discover` checks them.",
)
@click.option("--owner", help="With --relay: your Nostr public key (npub… or hex).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10,
    show_default=True,
    help="With --relay: seconds a relay may take to connect, and then to answer.",
)
@json_option
@state_root_option
def info_command(
    reference: str,
    relays: tuple[str, ...],
    owner: str | None,
    timeout: float,
    as_json: bool,
    state_root: Path,
) -> None:
    """An app of an added registry: its developer, trust score and the lines behind it.

    With --relay, the score also has the endorsements and reports the relays carry; the
    install threshold (--min-score) is still checked on the score without them."""
    from node_runtime.registries.install import parse_app_reference, registry_app
    from node_runtime.registries.score import below_threshold, registry_app_score
    from node_runtime.store.blob_store import BlobStore

    paths = NodePaths(state_root)
    require_node(paths, as_json)
    parsed = parse_app_reference(reference)
    if parsed.registry is None:
        raise Refused(
            f"{reference!r}: name the registry (REGISTRY/APP); official apps need no score"
        )
    try:
        record, app = registry_app(paths, BlobStore(paths.blobs_dir), parsed)
        installed = parsed.app_id in NodeState(paths).installed().apps and (
            read_app_registries(paths).apps.get(parsed.app_id) == record.name
        )
    except StateError as error:
        raise Refused(str(error)) from None
    now = datetime.now(UTC).replace(microsecond=0)
    claims, owner_key = _relay_claims(relays, owner, timeout) if relays else (None, None)
    local = registry_app_score(paths, record, app, now)
    score = local if claims is None else registry_app_score(paths, record, app, now, claims,
                                                            owner_key)  # fmt: skip
    needs_flag = below_threshold(record, local)
    unreachable = {} if claims is None else claims.unreachable
    did = None if app.developer is None else app.developer.did
    if as_json:
        print_json(
            {
                "registry": record.name, "app": parsed.app_id, "version": app.version,
                "revision": app.revision, "did": did, "installed": installed,
                "score": score.to_json(), "min_score": record.min_score,
                "needs_i_trust_this_developer": needs_flag,
                **({"unreachable": unreachable, "local_score": local.total} if relays else {}),
            }
        )  # fmt: skip
        return
    for url, why in sorted(unreachable.items()):
        click.echo(f"relay {url} did not answer: {why}", err=True)
    click.echo(f"{parsed.text}  {app.version}-r{app.revision}  {app.manifest.summary}")
    click.echo(f"developer: {did}")
    click.echo(f"score {score.total}" + (f" (threshold {record.min_score})" if
               record.min_score is not None else ""))  # fmt: skip
    for line in score.lines:
        click.echo(f"    {line.points:+4d}  {line.fact}")
    if claims is not None:
        click.echo(f"without the relays' lines (what the install threshold counts): {local.total}")
    if needs_flag:
        click.echo("below the threshold: install needs --i-trust-this-developer")


def _relay_claims(
    relays: tuple[str, ...], owner: str | None, timeout: float
) -> tuple[RelayClaims, str | None]:
    from node_runtime.market.discover import relay_claims
    from node_runtime.market.relays import public_key_hex

    owner_key = None if owner is None else public_key_hex(owner)
    return relay_claims(list(relays), owner_key, timedelta(seconds=timeout)), owner_key
