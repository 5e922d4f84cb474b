"""Write one imported app: ``manifest.yml``, its icon and ``IMPORT.md``, all or nothing.

The files are written into a staging folder beside the target and renamed
into place in one step, so a reader sees no app or the whole app; with
``--force`` the old folder is moved aside first and removed only after the
new one is in place (and put back if that fails).
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from pipeline.atomic_file import write_file_atomically
from pipeline.importer.reasons import Reason


def _literal_strings(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _literal_strings(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_literal_strings(value) for value in node]
    if isinstance(node, str) and "\n" in node and not node.endswith((" ", "\t")):
        return LiteralScalarString(node)
    return node


def render_manifest(document: dict[str, Any], header: str) -> bytes:
    """The manifest as YAML: block style, field order kept, no anchors, one header comment."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda data: True
    stream = io.StringIO()
    yaml.dump(_literal_strings(document), stream)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return (comment + stream.getvalue()).encode("utf-8")


def render_import_notes(
    app_id: str,
    store: str,
    source: str,
    status: str,
    reasons: Iterable[Reason],
    facts: list[str],
) -> bytes:
    """IMPORT.md: what was converted, guessed or dropped, and what needs the owner."""
    reasons = list(reasons)
    store_name = {"umbrel": "Umbrel", "casaos": "CasaOS"}[store]
    lines = [
        f"# {app_id}: imported from {store_name}",
        "",
        f"Source: `{source}` ({store_name} app format), converted by `archy import {store}`.",
        f"Status: **{status}**. Review this file, then delete it or keep it beside the manifest.",
        "",
    ]
    attention = [reason for reason in reasons if reason.severity == "warning"]
    notes = [reason for reason in reasons if reason.severity == "note"]
    lines.append("## Needs your attention")
    lines.append("")
    lines.extend(f"- {reason} ".rstrip() for reason in attention)
    if not attention:
        lines.append("- nothing")
    lines.extend(["", "## Converted, guessed or dropped as expected", ""])
    lines.extend(f"- {reason}" for reason in notes)
    if not notes:
        lines.append("- nothing")
    if facts:
        lines.extend(["", "## From the source, with no manifest field", ""])
        lines.extend(f"- {fact}" for fact in facts)
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def write_app(
    apps_dir: Path, app_id: str, files: dict[str, bytes], icon: Path | None, replace: bool
) -> Path:
    """Put ``apps_dir/app_id`` in place with ``files`` (+ icon.svg); all or nothing."""
    target = apps_dir / app_id
    apps_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staging = apps_dir / f".import-{app_id}-{token}"
    staging.mkdir()
    try:
        for name, data in files.items():
            write_file_atomically(staging / name, data, mode=0o644)
        if icon is not None:
            write_file_atomically(staging / "icon.svg", icon.read_bytes(), mode=0o644)
        if not replace:
            os.rename(staging, target)  # fails if the target appeared meanwhile
            return target
        aside = apps_dir / f".import-old-{app_id}-{token}"
        had_old = target.exists()
        if had_old:
            os.rename(target, aside)
        try:
            os.rename(staging, target)
        except BaseException:
            if had_old:
                os.rename(aside, target)
            raise
        if had_old:
            shutil.rmtree(aside)
        return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
