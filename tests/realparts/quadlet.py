"""The real Quadlet generator (DESIGN §4, §8).

Debian 12 has none; ``scripts/get-quadlet`` (called by setup-test-env) takes
it from Debian 13's podman package and leaves it at
``.cache/quadlet/root/usr/libexec/podman/quadlet``. ``ARCHY_QUADLET``
overrides the path.

Behaviour of ``QUADLET_UNIT_DIRS=dir quadlet -dryrun`` (podman 5.4):
  * stdout: every generated unit as ``---<name>.service---`` followed by its
    text; ``parse_dryrun`` splits that into {unit name: text};
  * stderr: lines ``quadlet-generator[<pid>]: <message>``. Two messages are
    informational (``Loading source unit file …`` and ``No files parsed
    from …``); everything else is a warning or an error. Warnings (e.g. a
    short image name) do not change the exit status, so check stderr with
    ``quadlet_problems``;
  * a unit that cannot be converted is left out of stdout, and the exit status
    is 1 (the final error is repeated on stderr without the prefix).
  * ``-user`` generates user units (rootless, what Archipelago nodes run);
    without it, system units.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from . import REPO_ROOT, SETUP_HINT

QUADLET_CACHE_PATH = REPO_ROOT / ".cache/quadlet/root/usr/libexec/podman/quadlet"

_PREFIX = re.compile(r"^quadlet-generator\[\d+\]: ")
_INFO = ("Loading source unit file ", "Loading source drop-in file ", "No files parsed from ")
_HEADER = re.compile(r"^---(?P<name>[^\s/]+)---$")


def find_quadlet() -> Path | None:
    """The generator's path (``$ARCHY_QUADLET`` or the cache), None if absent."""
    env = os.environ.get("ARCHY_QUADLET")
    path = Path(env) if env else QUADLET_CACHE_PATH
    return path if path.is_file() and os.access(path, os.X_OK) else None


_checked: set[Path] = set()


def require_quadlet() -> Path:
    """Like ``find_quadlet`` but fails the test with how to install it."""
    path = find_quadlet()
    if path in _checked:
        return path
    if path is None:
        where = os.environ.get("ARCHY_QUADLET") or QUADLET_CACHE_PATH
        pytest.fail(f"Quadlet generator not found at {where}: {SETUP_HINT}", pytrace=False)
    proc = subprocess.run([str(path), "-version"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        pytest.fail(
            f"{path} -version failed ({proc.returncode}): {proc.stderr.strip()}; {SETUP_HINT}",
            pytrace=False,
        )
    _checked.add(path)
    return path


def run_quadlet_dryrun(
    unit_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    user: bool = True,
    quadlet: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> tuple[str, str, int]:
    """Run ``QUADLET_UNIT_DIRS=<dir[:dir…]> quadlet -dryrun [-user]``.

    Returns (stdout, stderr, returncode). ``user=True`` (default) generates
    user units, as rootless nodes use them. Only the given directories are
    read (QUADLET_UNIT_DIRS replaces the search path).
    """
    dirs = [unit_dir] if isinstance(unit_dir, (str, os.PathLike)) else list(unit_dir)
    binary = Path(quadlet) if quadlet is not None else require_quadlet()
    argv = [str(binary), "-dryrun", "-no-kmsg-log"]
    if user:
        argv.append("-user")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "QUADLET_UNIT_DIRS": ":".join(os.fspath(d) for d in dirs),
    }
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    return proc.stdout, proc.stderr, proc.returncode


def parse_dryrun(stdout: str) -> dict[str, str]:
    """Split ``quadlet -dryrun`` stdout into {unit name: unit text}."""
    units: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in stdout.splitlines():
        m = _HEADER.match(line)
        if m:
            if name is not None:
                units[name] = "\n".join(lines).strip("\n") + "\n"
            name, lines = m.group("name"), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        units[name] = "\n".join(lines).strip("\n") + "\n"
    return units


def quadlet_problems(stderr: str) -> list[str]:
    """The warnings and errors in quadlet's stderr (informational lines dropped).

    DESIGN §8: treat any of these as a failure.
    """
    problems = []
    for raw in stderr.splitlines():
        line = _PREFIX.sub("", raw).strip()
        if line and not line.startswith(_INFO):
            problems.append(line)
    return problems


def unit_values(unit_text: str, section: str, key: str) -> list[str]:
    """All values of ``key=`` in ``[section]`` of a systemd unit, in order.

    Handles repeated keys and backslash line continuations; comments skipped.
    E.g. ``unit_values(units["web.service"], "Service", "ExecStart")``.
    """
    values: list[str] = []
    current: str | None = None
    pending: str | None = None
    for raw in unit_text.splitlines():
        if pending is not None:
            line = raw.strip()
            if line.endswith("\\"):
                pending += " " + line[:-1].strip()
                continue
            values.append((pending + " " + line).strip())
            pending = None
            continue
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        if current != section or "=" not in line:
            continue
        k, _, v = line.partition("=")
        if k.strip() != key:
            continue
        v = v.strip()
        if v.endswith("\\"):
            pending = v[:-1].strip()
        else:
            values.append(v)
    if pending is not None:
        values.append(pending)
    return values


@pytest.fixture(scope="session")
def quadlet_bin() -> Path:
    """Path of the real Quadlet generator; fails (not skips) when missing."""
    return require_quadlet()
