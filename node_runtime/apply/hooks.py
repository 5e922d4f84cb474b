"""Hooks: a member's manifest steps, best-effort, after it starts (docs/hooks.md).

A member's hooks are the steps that name it as their container.  They run once
the member is started and healthy, before its dependents start:
``post_install`` steps whenever the member's container is new since they last
ran (install, update, any re-creation; under Quadlet every start creates one),
``pre_start`` steps whenever it was started since they last ran (also restarts
and reboots).  Which start they last ran for is ``store.hook_runs``.

``copy_from_host`` may read only inside the owner's allowlisted hook source dirs,
with no symlink on the way or inside the copied tree.  A failed step is a
warning on the app's result, never a failed install.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence

from catalog.manifest import HookStep
from catalog.refusal import Refused
from node_runtime.apply.outcome import ActionFailed
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.app_plan import member_hooks
from node_runtime.plan.desired import desired_app
from node_runtime.store.applied import read_applied
from node_runtime.store.hook_runs import read_hook_run, record_hook_run
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.safe_paths import (
    UnsafePath,
    describe_entry,
    entry_kind,
    open_directory,
    relative_parts_or_none,
)


def canonical_hook_source(source: str, allowed: Sequence[str]) -> str:
    """``source`` if it lies inside an allowed dir and no symlink is on the way or inside it.

    The allowed dirs themselves are the owner's configuration (resolved); below them,
    every component is checked without following links, and a dir's whole tree too.
    """
    roots = [root.rstrip("/") or "/" for root in allowed]
    roots += [os.path.realpath(root) for root in roots]
    root = next((r for r in roots if relative_parts_or_none(r, source) is not None), None)
    if root is None:
        raise ActionFailed(
            f"copy_from_host source {source} is not inside an allowed hook source dir "
            f"({', '.join(allowed) or 'none configured'})"
        )
    parent, name = posixpath.split(source.rstrip("/"))
    try:
        if posixpath.normpath(source) == posixpath.normpath(root):
            kind = "directory"
        else:
            with open_directory(root, parent) as folder:
                kind = entry_kind(folder, name)
                if kind not in ("directory", "file"):
                    raise UnsafePath(describe_entry(folder, name, source))
        if kind == "directory":
            for directory, dirs, files in os.walk(source):
                for entry in (*dirs, *files):
                    if os.path.islink(os.path.join(directory, entry)):
                        raise UnsafePath(f"{os.path.join(directory, entry)} is a symlink")
    except (OSError, UnsafePath) as error:
        raise ActionFailed(f"copy_from_host source {source}: {error}") from None
    return source


def run_member_hooks(
    engine: ContainerEngine,
    paths: NodePaths,
    member: str,
    post_install: Sequence[HookStep],
    pre_start: Sequence[HookStep],
    hook_sources: Sequence[str],
) -> list[str]:
    """Run the member's hooks this start of it still needs; a warning per failed step.

    Compares the container's identity (``<id> <start time>``) with the one its hooks
    last ran for: a new id runs ``post_install`` and ``pre_start``, a new start time
    ``pre_start`` alone, the same identity nothing.  The run is recorded even when a
    step failed (best-effort: the next start tries again, a loop never does).
    """
    identity = engine.container_identity(member)
    if identity is None:
        return [f"hooks of {member}: the container is not there to run them in"]
    try:
        last = read_hook_run(paths, member)
    except StateError as error:
        return [f"hooks of {member}: {error}"]
    if last == identity:
        return []
    new_container = last is None or last.split(" ")[0] != identity.split(" ")[0]
    warnings: list[str] = []
    if new_container:
        warnings += run_hook_steps(engine, post_install, hook_sources, "post_install")
    warnings += run_hook_steps(engine, pre_start, hook_sources, "pre_start")
    try:
        record_hook_run(paths, member, identity)
    except (OSError, StateError) as error:
        warnings.append(f"hooks of {member}: the run could not be recorded ({error})")
    return warnings


def run_hook_steps(
    engine: ContainerEngine,
    steps: Sequence[HookStep],
    hook_sources: Sequence[str],
    kind: str = "post_install",
) -> list[str]:
    """Run hook steps best-effort; return a warning per step that failed (never raises)."""
    warnings: list[str] = []
    for index, step in enumerate(steps):
        try:
            if step.exec is not None:
                engine.exec_in(step.exec.container, step.exec.command)
            elif step.copy_from_host is not None:
                copy = step.copy_from_host
                source = canonical_hook_source(copy.source, hook_sources)
                engine.copy_into(source, copy.container, copy.destination)
        except (ActionFailed, EngineError) as error:
            warnings.append(f"{kind} step {index + 1}: {error}")
    return warnings


def run_applied_member_hooks(
    paths: NodePaths,
    app_id: str,
    member: str,
    engine: ContainerEngine,
    hook_sources: Sequence[str],
) -> list[str]:
    """``archy-node run-hooks APP MEMBER`` (a Quadlet unit's ``ExecStartPost=``): the member's
    hooks from the app's applied record; a warning per failed step.  Takes no state lock
    (the agent may hold it while it waits for this very start)."""
    applied = read_applied(paths).get(app_id)
    if applied is None:
        raise Refused(f"{app_id!r} is not applied on this node; no hooks to run")
    desired = desired_app(applied.app, applied.data_root)
    if member not in {spec.name for spec in desired.specs}:
        raise Refused(f"{member!r} is not a member of {app_id}")
    hooks = member_hooks(desired, member)
    if hooks is None:
        return []
    return run_member_hooks(
        engine, paths, member, hooks.post_install, hooks.pre_start, hook_sources
    )
