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
so this is a drop-in the node writes, never part of the catalog's units.

A member whose container was adopted (``migration.adopt``: it runs outside its unit)
gets, in the same drop-in, an ``ExecCondition=`` that skips the unit while a container
of that name exists that its unit did not start: at boot systemd would otherwise start
the unit, and its ``podman run --replace`` would replace the adopted container.  Pure.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from catalog.runtime_names import member_unit_name
from catalog.systemd_syntax import quote_words
from catalog.unit_check import container_unit_file

DROPIN_HEADER = "# Written by archy-node for this member (docs/hooks.md); do not edit."
_PLAIN_PROGRAM = re.compile(r"^/[A-Za-z0-9/._+-]+$")


def node_program() -> list[str]:
    """How systemd runs this node agent: the frozen binary, else this Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "node_runtime"]


def adopted_guard(app_id: str, member: str) -> str:
    """``ExecCondition=``: skip the unit (exit 1) while ``member`` is a container its unit did
    not start; a missing container, or the unit's own, lets the start go on (exit 0)."""
    service = f"{member_unit_name(app_id, member)}.service"
    script = (
        "label=$(podman container inspect --format "
        f"'{{{{.Config.Labels.PODMAN_SYSTEMD_UNIT}}}}' {member} 2>/dev/null) || exit 0; "
        f'test "$label" = {service}'
    )
    return f"ExecCondition=/bin/sh {quote_words(['-c', script])}"


def member_dropin(
    program: Sequence[str],
    state_root: Path,
    hook_sources: Sequence[str],
    app_id: str,
    member: str,
    *,
    hooks: bool = True,
    adopted: bool = False,
) -> str:
    """The node's drop-in text for one member: its hooks run after every start (``hooks``),
    its unit skipped while an adopted container runs (``adopted``)."""
    lines = [DROPIN_HEADER, "[Service]"]
    if adopted:
        lines.append(adopted_guard(app_id, member))
    if hooks:
        lines.append(hooks_line(program, state_root, hook_sources, app_id, member))
    return "\n".join(lines) + "\n"


def hooks_line(
    program: Sequence[str],
    state_root: Path,
    hook_sources: Sequence[str],
    app_id: str,
    member: str,
) -> str:
    """``ExecStartPost=-<archy-node> run-hooks …`` (``program``: :func:`node_program`)."""
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
    return f"ExecStartPost=-{program[0]} {quote_words(words)}"


def app_hooks_dropins(
    app_id: str,
    members: Sequence[str],
    program: Sequence[str],
    state_root: Path,
    hook_sources: Sequence[str],
    adopted: Sequence[str] = (),
) -> dict[str, str]:
    """Unit file name -> drop-in text, for each of ``members`` (those with hooks) and of
    ``adopted`` (members whose container was adopted)."""
    dropins: dict[str, str] = {}
    for member in dict.fromkeys([*members, *adopted]):
        dropins[container_unit_file(app_id, member)] = member_dropin(
            program, state_root, hook_sources, app_id, member,
            hooks=member in members, adopted=member in adopted,
        )  # fmt: skip
    return dropins
