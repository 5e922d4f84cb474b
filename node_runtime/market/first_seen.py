"""When this node first saw each developer did:key: ``<state root>/market/first-seen.json``.

The age of an identity in the trust score comes from here, not from an event's
``created_at`` (which its author chooses).  Written atomically; an unreadable file is
treated as empty (the worst case is that identities look new again).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from node_runtime.store.atomic_file import write_file_atomically

FILE_NAME = "first-seen.json"


def _load(path: Path) -> dict[str, int]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {k: v for k, v in document.items() if isinstance(k, str) and type(v) is int}


def record_first_seen(
    state_root: Path | None, dids: list[str], now: datetime
) -> dict[str, datetime]:
    """The first-seen time of each of ``dids`` (now for a new one), recorded under
    ``state_root`` when it exists (a node that is not set up keeps nothing)."""
    if state_root is None or not state_root.is_dir():
        return {did: now for did in dids}
    path = state_root / "market" / FILE_NAME
    known = _load(path)
    changed = False
    for did in dids:
        if did not in known:
            known[did] = int(now.timestamp())
            changed = True
    if changed:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        text = json.dumps(known, indent=2, sort_keys=True) + "\n"
        write_file_atomically(path, text.encode(), mode=0o600)
    return {did: datetime.fromtimestamp(known[did], UTC) for did in dids}
