"""The README's main job on the embedded default: build, sign, publish, pull — all local.

``run_dev_flow`` runs the whole supply chain on one machine, with no server and
no network:

1. a throwaway ceremony in ``dist/dev-ceremony/`` (three dev maintainer keys,
   root and targets 2-of-3, an online key; passphrases from an environment
   variable);
2. ``archy build --dev`` into ``dist/dev-build/``; when podman cannot build the
   companion images here (no podman, or their base images are not available
   offline), the build runs with ``companions="skip"``: the apps that need one
   are left out of this dev build, with a warning per app, and the summary
   says which;
3. a signing event for that build, signed by two of the three dev keys;
4. a publish to ``dist/repo/`` (the origin layout of DESIGN §6);
5. the node client (``archy-node tuf``) initialises from root v1, refreshes and
   downloads ``app-catalog.json`` from ``dist/repo/``;
6. the real node agent (``archy-node`` subprocesses, as the current user) in a
   sandbox under ``dist/``: ``init`` (root v1, ``file://`` origin
   ``dist/repo``, state ``dist/dev-node-state``, data ``dist/dev-node-data``),
   ``pull``, ``install --no-apply`` of :data:`DEV_NODE_APPS`, ``pull`` (their
   files), ``apply``.  The engine is podman only when podman is installed and
   has every image those apps run (a bounded ``podman image inspect``, stopping
   at the first missing one; nothing is pulled); otherwise ``--engine stage``:
   the units are written to ``dist/dev-node-units``, data dirs and generated
   secrets are created, nothing is started and each app says ``staged``;
7. the storefront (``index.html`` and ``store/``) written into ``dist/repo/`` after the
   timestamp, from the repository read back through the TUF chain, as ``archy publish``
   does;
8. a summary of what the node received and what the agent did, and where the storefront is.

Everything it writes is under ``dist/`` and is recreated on every run.

Public API: ``run_dev_flow(repo, dist, passphrase, say) -> DevFlowResult``,
``DevFlowError`` (a ``Refused``).  The ``archy dev-flow`` command and its summary
tables are :mod:`pipeline.commands.dev_flow`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogError, parse_catalog
from catalog.refusal import Refused
from catalog.runtime_spec import app_runtime_specs
from pipeline.build_cache import CACHE_DIR_NAME
from pipeline.build_types import BuildOptions, BuildRefused, BuildResult
from pipeline.catalog_build import build_catalog
from pipeline.ceremony.event import CeremonyError, EventStatus
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.keystore import KdfCost, KeyFileError, read_key_file, write_key_file
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import init_ceremony, open_catalog_event, sign_event
from pipeline.companions import LocalPodman
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.origin import OriginError, PublishError
from pipeline.publish.signed_repository import PublishReport
from pipeline.storefront.publish_step import publish_storefront
from pipeline.storefront.verified_repository import StorefrontSourceError
from signing.keys import SigningKey

PASSPHRASE_ENV = "ARCHY_DEV_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
DEV_MAINTAINERS = ("dev-maintainer-1", "dev-maintainer-2", "dev-maintainer-3")
DEV_THRESHOLD = 2
_DEV_DIRS = (
    "dev-ceremony", "dev-build", "dev-source", "repo", "dev-node",  # dev-source: old runs
    "dev-node-state", "dev-node-data", "dev-node-units",
)  # fmt: skip
DEV_NODE_APPS = ("bitcoin-core", "electrs", "immich", "vaultwarden")
"""A provider and an app that needs it, a three-container stack, a one-container web app.
A few rather than all: each ``archy-node`` call starts a Python (~0.6 s) and ``install``
takes one app, so all 37 would add ~25 s to a ~10 s command without showing more."""
IMAGE_INSPECT_TIMEOUT = 15.0


class DevFlowError(Refused):
    """A step of the dev flow failed; the message says which and why."""


@dataclass
class DevFlowResult:
    catalog: AppCatalog
    catalog_bytes: bytes
    repo: Path
    event_status: EventStatus
    publish: PublishReport
    skipped_apps: list[str] = field(default_factory=list)
    node_catalog_path: Path | None = None
    node_run: DevNodeRun | None = None


Say = Callable[[str], None]


# --- 1. the throwaway ceremony ---


def make_dev_ceremony(
    directory: Path, passphrase: bytes, now: datetime
) -> tuple[CeremonyState, list[Path], Path]:
    """Three dev maintainer keys and an online key (encrypted, 0600), and root v1."""
    keys_dir = directory / "keys"
    key_files: list[Path] = []
    signing_keys: list[SigningKey] = []
    for name in (*DEV_MAINTAINERS, "dev-online"):
        key = SigningKey.generate()
        path = keys_dir / f"{name}.key"
        write_key_file(path, key, passphrase, KdfCost.INTERACTIVE)
        key_files.append(path)
        signing_keys.append(key)
    maintainers, online = signing_keys[:3], signing_keys[3]
    public = [key.public_key for key in maintainers]
    state = CeremonyState(directory)
    init_ceremony(
        state,
        {
            "root": public,
            "targets": public,
            "snapshot": [online.public_key],
            "timestamp": [online.public_key],
        },
        {"root": DEV_THRESHOLD, "targets": DEV_THRESHOLD},
        maintainers[:DEV_THRESHOLD],
        now,
    )
    return state, key_files[:3], key_files[3]


# --- 2. the build ---


def podman_usable() -> bool:
    if shutil.which("podman") is None:
        return False
    try:
        probe = subprocess.run(
            ["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _build(repo: Path, out_dir: Path, with_podman: bool) -> BuildResult:
    options = BuildOptions(
        repo=repo,
        out_dir=out_dir,
        previous=None,
        dev=True,
        podman=LocalPodman() if with_podman else None,
        cache_dir=repo / CACHE_DIR_NAME,
        companions="build" if with_podman else "skip",
    )
    return build_catalog(options)


def build_dev_catalog(repo: Path, dist: Path, say: Say) -> BuildResult:
    """Build with companions when podman can; otherwise leave their apps out (companions=skip)."""
    out_dir = dist / "dev-build"
    if podman_usable():
        try:
            return _build(repo, out_dir, with_podman=True)
        except BuildRefused as error:
            say(
                "note: companion builds failed "
                f"({error.problems[0].splitlines()[0][:160]}); building without them"
            )
    else:
        say("note: podman is not usable here; building without companion images")
    result = _build(repo, out_dir, with_podman=False)
    for warning in result.warnings:
        if warning.endswith("(companions: skip)"):
            say(f"warning: {warning}")
    return result


# --- 5. the node ---


def _archy_node_command() -> list[str]:
    beside = Path(sys.executable).with_name("archy-node")
    if beside.is_file():
        return [str(beside)]
    return [sys.executable, "-c", "from node_runtime.commands import main; main()"]


def node_pull(repo: Path, node_dir: Path) -> Path:
    """Run our node client against ``repo``: trust root v1, refresh, download the catalog."""
    metadata_dir, targets_dir = node_dir / "metadata", node_dir / "targets"
    base = [*_archy_node_command(), "tuf", "--metadata-dir", str(metadata_dir)]
    remote = ["--metadata-url", (repo / "metadata").resolve().as_uri()]
    steps = [
        [*base, "init", str(repo / "metadata" / "1.root.json")],
        [*base, *remote, "refresh"],
        [
            *base,
            *remote,
            "--target-name",
            CATALOG_NAME,
            "--target-base-url",
            (repo / "targets").resolve().as_uri(),
            "--target-dir",
            str(targets_dir),
            "download",
        ],
    ]
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise DevFlowError(
                f"archy-node tuf {command[len(base)]}: {detail[-1] if detail else done.returncode}"
            )
    return targets_dir / CATALOG_NAME


# --- 6. the node agent ---


@dataclass
class DevNodeRun:
    engine: str
    why: str
    results: list[dict[str, object]]
    unit_dir: Path


def _node_images(catalog: AppCatalog, app_ids: list[str], data_root: Path) -> list[str]:
    images: list[str] = []
    for app_id in app_ids:
        manifest = catalog.apps[app_id].pinned_manifest()
        for spec in app_runtime_specs(manifest, str(data_root)):
            images.append(spec.image)
    return list(dict.fromkeys(images))


def choose_dev_engine(images: list[str]) -> tuple[str, str]:
    """podman when it is installed and has every image here (nothing is pulled), else stage."""
    if shutil.which("podman") is None:
        return "stage", "podman is not installed"
    for image in images:
        try:
            probe = subprocess.run(
                ["podman", "image", "inspect", "--format", "{{.Id}}", image],
                capture_output=True, timeout=IMAGE_INSPECT_TIMEOUT, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return "stage", f"podman did not answer `image inspect {image}`"
        if probe.returncode != 0:
            return "stage", f"podman has no {image} here (offline: images are not pulled)"
    return "podman", f"podman has all {len(images)} images"


def _run_node(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [*_archy_node_command(), *args], capture_output=True, text=True, check=False,
        env=None if env is None else {**os.environ, **env},
    )  # fmt: skip
    if done.returncode != 0 and not (args[0] == "apply" and done.stdout.strip()):
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise DevFlowError(f"archy-node {args[0]}: {detail[-1] if detail else done.returncode}")
    return done.stdout


def run_dev_node(repo: Path, dist: Path, catalog: AppCatalog, say: Say) -> DevNodeRun:
    """The real agent into a sandbox under ``dist``: init, pull, install, pull, apply."""
    dist, repo = dist.resolve(), repo.resolve()  # the node wants absolute paths
    state = ["--state-root", str(dist / "dev-node-state")]
    data_root, unit_dir = dist / "dev-node-data", dist / "dev-node-units"
    say(f"      init: trust metadata/1.root.json, origin {repo}")
    _run_node([
        "init", "--root", str(repo / "metadata" / "1.root.json"),
        "--origin", repo.as_uri(), "--data-root", str(data_root), *state,
    ])  # fmt: skip
    say("      pull: refresh the metadata, verify and fetch the catalog")
    _run_node(["pull", *state])
    apps = [app_id for app_id in DEV_NODE_APPS if app_id in catalog.apps]
    say(f"      install: {', '.join(apps)}")
    for app_id in apps:
        _run_node(["install", app_id, "--no-apply", *state])
    say("      pull: the installed apps' files")
    _run_node(["pull", *state])  # the installed apps' files (companion image archives)
    engine, why = choose_dev_engine(_node_images(catalog, apps, data_root))
    say(f"      apply, engine: {engine} ({why})")
    output = _run_node(
        ["apply", "--engine", engine, "--json", *state],
        env={"ARCHY_NODE_QUADLET_DIR": str(unit_dir)},
    )
    try:
        document = json.loads(output)
    except json.JSONDecodeError:
        raise DevFlowError(f"archy-node apply printed no JSON: {output[:200]}") from None
    return DevNodeRun(engine, why, list(document.get("apps", [])), unit_dir)


# --- the whole flow ---


def run_dev_flow(repo: Path, dist: Path, passphrase: bytes, say: Say) -> DevFlowResult:
    now = datetime.now(UTC)
    for name in _DEV_DIRS:
        shutil.rmtree(dist / name, ignore_errors=True)
    try:
        say("[1/7] dev ceremony: 3 dev maintainer keys, root and targets 2-of-3, an online key")
        state, maintainer_keys, online_key_file = make_dev_ceremony(
            dist / "dev-ceremony", passphrase, now
        )
        say("[2/7] building the catalog (archy build --dev)")
        build = build_dev_catalog(repo, dist, say)
        skipped = build.left_out
        say(f"      {len(build.catalog.apps)} apps, {len(build.catalog_bytes)} bytes")
        say("[3/7] opening a signing event and signing it with 2 of the 3 dev keys")
        event, _review = open_catalog_event(state, dist / "dev-build", now)
        status = None
        for path in maintainer_keys[:DEV_THRESHOLD]:
            status = sign_event(state, event.event_id, read_key_file(path, passphrase), now)
        assert status is not None
        say(f"[4/7] publishing to {dist / 'repo'} (snapshot and timestamp signed online)")
        online_key = read_key_file(online_key_file, passphrase)
        report = publish_signing_event(
            state, event.event_id, dist / "dev-build", FileOrigin(dist / "repo"), online_key, now
        )
        say("[5/7] the node client refreshes and downloads app-catalog.json")
        node_catalog = node_pull(dist / "repo", dist / "dev-node")
        say("[6/7] the node agent: init, pull, install, apply (sandbox under dist/)")
        node_run = run_dev_node(dist / "repo", dist, build.catalog, say)
        say("[7/7] the storefront, read back through the TUF chain, written after the timestamp")
        publish_storefront(FileOrigin(dist / "repo"), state.roots()[-1].to_bytes(), now)
    except BuildRefused as error:
        raise DevFlowError(f"build refused: {'; '.join(error.problems[:3])}") from None
    except (CeremonyError, KeyFileError, PublishError, OriginError, StorefrontSourceError) as error:
        raise DevFlowError(str(error)) from None
    data = node_catalog.read_bytes()
    if data != build.catalog_bytes:
        raise DevFlowError("the node's catalog differs from the one that was built")
    try:
        catalog = parse_catalog(data)
    except CatalogError as error:
        raise DevFlowError(f"the node's catalog does not parse: {error}") from None
    return DevFlowResult(
        catalog, data, dist / "repo", status, report, skipped, node_catalog, node_run
    )
