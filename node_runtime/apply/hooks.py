"""Post-install hooks: the manifest's steps, best-effort, after a fresh install.

``copy_from_host`` may read only inside the owner's allowlisted hook source dirs,
with no symlink on the way or inside the copied tree.  A failed step is a
warning on the app's result, never a failed install.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence

from catalog.manifest import HookStep
from node_runtime.apply.outcome import ActionFailed
from node_runtime.engines.container_engine import ContainerEngine, EngineError
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


def run_hook_steps(
    engine: ContainerEngine, steps: Sequence[HookStep], hook_sources: Sequence[str]
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
            warnings.append(f"post_install step {index + 1}: {error}")
    return warnings
