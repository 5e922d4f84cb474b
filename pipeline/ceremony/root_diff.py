"""What a root rotation changes, computed from the two root documents themselves.

Pure: the trusted root and the proposed next root in, lines of text out.
Every role's keys added and removed (full keyids and key types, so a signer
can compare them with the maintainers' ``.pub`` files), thresholds, roles
added or removed, a key whose public part changed under the same keyid, the
version, the expiry, and any other field that differs.

Public API: ``diff_roots(current, next_root) -> list[str]``.
"""

from __future__ import annotations

from signing.keys import PublicKey
from signing.metadata import Root
from signing.metadata_fields import format_expires


def _key_text(keyid: str, key: PublicKey | None) -> str:
    kind = "unknown key" if key is None else f"{key.keytype}/{key.scheme}"
    return f"{keyid} ({kind})"


def _role_lines(current: Root, next_root: Root, role_name: str) -> list[str]:
    before = current.roles.get(role_name)
    after = next_root.roles.get(role_name)
    if after is None:
        return [f"  {role_name}: role removed"]
    lines: list[str] = []
    if before is None:
        lines.append(f"  {role_name}: new role, threshold {after.threshold}")
        old_keyids: tuple[str, ...] = ()
    else:
        old_keyids = before.keyids
        if before.threshold != after.threshold:
            lines.append(f"  {role_name}: threshold {before.threshold} -> {after.threshold}")
    for keyid in after.keyids:
        if keyid not in old_keyids:
            lines.append(f"  {role_name}: new key {_key_text(keyid, next_root.keys.get(keyid))}")
        elif current.keys.get(keyid) != next_root.keys.get(keyid):
            lines.append(f"  {role_name}: key {keyid} has another public key under the same keyid")
    for keyid in old_keyids:
        if keyid not in after.keyids:
            lines.append(f"  {role_name}: dropped key {_key_text(keyid, current.keys.get(keyid))}")
    return lines


def diff_roots(current: Root, next_root: Root) -> list[str]:
    """Every change from ``current`` to ``next_root`` a root signer must see, one per line."""
    lines = [
        f"root v{current.version} -> v{next_root.version}, expires "
        f"{format_expires(next_root.expires)} (was {format_expires(current.expires)})"
    ]
    for role_name in sorted(set(current.roles) | set(next_root.roles)):
        lines += _role_lines(current, next_root, role_name)
    if current.consistent_snapshot != next_root.consistent_snapshot:
        lines.append(
            f"  consistent_snapshot {current.consistent_snapshot} -> "
            f"{next_root.consistent_snapshot}"
        )
    if current.spec_version != next_root.spec_version:
        lines.append(f"  spec_version {current.spec_version} -> {next_root.spec_version}")
    if dict(current.extra) != dict(next_root.extra):
        changed = sorted(
            name
            for name in set(current.extra) | set(next_root.extra)
            if current.extra.get(name) != next_root.extra.get(name)
        )
        lines.append(f"  other fields changed: {', '.join(changed)}")
    unused = sorted(
        set(next_root.keys) - {k for role in next_root.roles.values() for k in role.keyids}
    )
    if unused:
        lines.append(f"  keys listed but used by no role: {', '.join(unused)}")
    if len(lines) == 1:
        lines.append("  no key, threshold or role changes")
    return lines
