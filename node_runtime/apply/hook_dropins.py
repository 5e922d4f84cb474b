"""The node's own drop-in that runs a Quadlet member's hooks at every start of its unit.

Under Quadlet, systemd (not the agent) starts members: at boot, on ``Restart=``,
on ``systemctl restart``; and every start is a new container (``podman run
--replace --rm``).  So each member that has hooks gets
``<unit>.container.d/archy-hooks.conf``::

    [Service]
    ExecStartPost=-/path/to/archy-node run-hooks --state-root … APP MEMBER

``ExecStartPost=`` runs once the container is up (with ``Notify=healthy``: once it
is healthy) and before the unit counts as started, so dependents (``After=``)
wait for it; ``-`` keeps a failed hook from failing the unit (hooks are
best-effort).  The command is the node binary itself, which reads the applied
manifest, checks ``copy_from_host`` sources as the agent does and records the run
(``store.hook_runs``).  The path of the binary and the state root are this node's,
so this is a drop-in the node writes, never part of the catalog's units.  Pure.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from catalog.systemd_syntax import quote_words
from catalog.unit_check import container_unit_file

DROPIN_HEADER = "# Written by archy-node: runs this member's hooks at every start (docs/hooks.md)."
_PLAIN_PROGRAM = re.compile(r"^/[A-Za-z0-9/._+-]+$")


def node_program() -> list[str]:
    """How systemd runs this node agent: the frozen binary, else this Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "node_runtime"]


def hooks_dropin(
    program: Sequence[str],
    state_root: Path,
    hook_sources: Sequence[str],
    app_id: str,
    member: str,
) -> str:
    """The drop-in text for one member (``program``: :func:`node_program`)."""
    if not program or _PLAIN_PROGRAM.fullmatch(program[0]) is None:
        raise ValueError(f"the node program {program[:1]!r} is not a plain absolute path")
    words = [
        *program[1:],
        "run-hooks",
        "--state-root",
        str(state_root),
        *(f"--hook-source-dir={source}" for source in hook_sources),
        app_id,
        member,
    ]
    return f"{DROPIN_HEADER}\n[Service]\nExecStartPost=-{program[0]} {quote_words(words)}\n"


def app_hooks_dropins(
    app_id: str,
    members: Sequence[str],
    program: Sequence[str],
    state_root: Path,
    hook_sources: Sequence[str],
) -> dict[str, str]:
    """Unit file name -> drop-in text, for each of ``members`` (those with hooks)."""
    return {
        container_unit_file(app_id, member): hooks_dropin(
            program, state_root, hook_sources, app_id, member
        )
        for member in members
    }
