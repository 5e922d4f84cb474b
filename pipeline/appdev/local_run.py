"""``archy app run``: one app on a throwaway local node, through the production code.

``run_app`` checks the app (:func:`~pipeline.appdev.local_repository.checked_app`),
publishes a one-app signed repository into ``DIST/app-run/<id>/repo``, and runs
the real node agent as ``archy-node`` subprocesses (the pipeline never imports
the node, DESIGN §2) against it, with its state, data and units in that
sandbox: ``init``, ``pull``, ``install --no-apply``, ``pull``, ``apply``.

The engine is ``podman`` when podman is installed and already holds every
image the app runs (nothing is pulled), otherwise ``stage`` (units, data dirs
and secrets written, nothing started); which one and why is said aloud.
``stop_app`` (``--down``) uninstalls and purges the app through the agent and
removes the sandbox.  A second ``run`` replaces the previous sandbox.

Public API: ``run_app(folder, dist, say) -> LocalRun``, ``stop_app(dist, app_id)``,
``sandbox_dir(dist, app_id)``, ``member_names(folder)``.
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

from catalog.manifest import Manifest
from pipeline.appdev.local_repository import (
    CheckedApp,
    LocalRunRefused,
    checked_app,
    publish_one_app,
)
from pipeline.main_flow import choose_dev_engine

ENGINE_FILE = "engine"
Say = Callable[[str], None]


@dataclass
class LocalRun:
    app_id: str
    engine: str
    why: str
    sandbox: Path
    results: list[dict[str, object]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    secret_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(entry.get("status") == "failed" for entry in self.results)


def sandbox_dir(dist: Path, app_id: str) -> Path:
    return (dist / "app-run" / app_id).resolve()


def archy_node_command() -> list[str]:
    beside = Path(sys.executable).with_name("archy-node")
    if beside.is_file():
        return [str(beside)]
    return [sys.executable, "-m", "node_runtime"]


def _node(args: list[str], sandbox: Path, ok_with_output: bool = False) -> str:
    done = subprocess.run(
        [*archy_node_command(), *args, "--state-root", str(sandbox / "state")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ARCHY_NODE_QUADLET_DIR": str(sandbox / "units")},
    )
    if done.returncode != 0 and not (ok_with_output and done.stdout.strip()):
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise LocalRunRefused(
            [f"archy-node {args[0]}: {detail[-1] if detail else f'exit {done.returncode}'}"]
        )
    return done.stdout


def owner_urls(manifest: Manifest) -> list[str]:
    """What the owner would open: the UI first, then every other published TCP port."""
    urls: list[str] = []
    for member in manifest.containers:
        for port in member.ports:
            if port.protocol != "tcp" or port.expose == "tor":
                continue
            is_ui = (
                manifest.ui is not None
                and manifest.ui.container == member.name
                and manifest.ui.port == port.container
            )
            path = manifest.ui.path if is_ui and manifest.ui is not None else "/"
            url = f"http://127.0.0.1:{port.host_port}{path}"
            if is_ui:
                urls.insert(0, f"{url} (web UI)")
            else:
                urls.append(f"{url} ({member.name}:{port.container}/{port.protocol})")
    return urls


def stop_app(dist: Path, app_id: str) -> str:
    """Uninstall and purge ``app_id`` from its throwaway node, then remove the sandbox."""
    sandbox = sandbox_dir(dist, app_id)
    if not (sandbox / "state").is_dir():
        raise LocalRunRefused([f"{app_id}: not running here (no {sandbox})"])
    engine_file = sandbox / ENGINE_FILE
    engine = engine_file.read_text().strip() if engine_file.is_file() else "stage"
    _node(["uninstall", app_id, "--purge", "--engine", engine, "--json"], sandbox, True)
    shutil.rmtree(sandbox)
    return engine


def run_app(folder: Path, dist: Path, say: Say) -> LocalRun:
    checked = checked_app(folder)
    manifest = checked.source.manifest
    sandbox = sandbox_dir(dist, manifest.id)
    if (sandbox / "state").is_dir():
        say(f"replacing the previous throwaway node in {sandbox}")
        try:
            stop_app(dist, manifest.id)
        except LocalRunRefused as error:  # a run that failed before its install
            say(f"note: the previous node had nothing to remove ({error.lines[0]})")
    shutil.rmtree(sandbox, ignore_errors=True)
    data_root = sandbox / "data"
    root_file = publish_one_app(checked, sandbox / "repo", datetime.now(UTC), str(data_root))
    chosen = _chosen_providers(checked)
    images = [member.image for member in manifest.containers]
    for provider in checked.providers:
        if provider.app_id in chosen.values():
            images += [member.image for member in provider.source.manifest.containers]
    engine, why = choose_dev_engine(images)
    (sandbox / ENGINE_FILE).write_text(engine + "\n")
    say(f"engine: {engine} ({why})")
    _node(
        ["init", "--root", str(root_file), "--origin", (sandbox / "repo").as_uri(),
         "--data-root", str(data_root)],
        sandbox,
    )  # fmt: skip
    _node(["pull"], sandbox)
    for provider_id in dict.fromkeys(chosen.values()):  # a node needs a provider installed
        _node(["install", provider_id, "--no-apply"], sandbox)
    _node(["install", manifest.id, "--no-apply"], sandbox)
    _node(["pull"], sandbox)
    output = _node(["apply", "--engine", engine, "--json"], sandbox, ok_with_output=True)
    try:
        document = json.loads(output)
    except json.JSONDecodeError:
        raise LocalRunRefused([f"archy-node apply printed no JSON: {output[:200]}"]) from None
    secrets = sandbox / "state" / "secrets" / manifest.id
    notes = []
    for capability, provider_id in chosen.items():
        others = [
            each.app_id
            for each in checked.providers
            if each.app_id != provider_id
            and (each.app_id == capability or capability in each.source.manifest.capabilities)
        ]
        also = f" ({', '.join(others)} also provide it)" if others else ""
        notes.append(f"requires {capability}: installed {provider_id} to provide it{also}")
    return LocalRun(
        app_id=manifest.id,
        engine=engine,
        why=why,
        sandbox=sandbox,
        results=[e for e in document.get("apps", []) if e.get("app") == manifest.id],
        urls=owner_urls(manifest),
        secret_files=sorted(secrets.iterdir()) if secrets.is_dir() else [],
        notes=notes,
    )


def _chosen_providers(checked: CheckedApp) -> dict[str, str]:
    """For each required app or capability, the provider the throwaway node installs:
    the app of that id, else the first provider by id."""
    chosen: dict[str, str] = {}
    for requirement in checked.app.source.manifest.requires:
        if requirement.optional:
            continue
        matching = sorted(
            each.app_id
            for each in checked.providers
            if each.app_id == requirement.app
            or requirement.app in each.source.manifest.capabilities
        )
        if matching:
            chosen[requirement.app] = (
                requirement.app if requirement.app in matching else matching[0]
            )
    return chosen


def member_names(folder: Path) -> list[str]:
    return [member.name for member in checked_app(folder).source.manifest.containers]
