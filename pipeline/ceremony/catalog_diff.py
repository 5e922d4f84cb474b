"""What changed between two catalogs, in words a maintainer checks before signing.

Pure: two parsed catalogs (the previous one may be absent) in, lines of
text out.  Each line names the app and the change: added or removed apps,
version bumps, image references and digests, companion images, icons,
permissions, host ports and hooks — the things that change what runs on a
node and what it may touch — then the node binaries every node self-updates
to (platform, size, BLAKE3) and the swarm seeds.

Public API: ``diff_catalogs(previous, current) -> list[str]`` (empty when
nothing a node would notice changed), ``diff_node_binaries``, ``diff_seeds``.
"""

from __future__ import annotations

from typing import Any

from catalog.catalog_model import AppCatalog, CatalogApp, TargetFile


def _permissions(app: CatalogApp) -> set[str]:
    granted: set[str] = set()
    for name, value in app.manifest.permissions.model_dump(mode="json").items():
        if value is True:
            granted.add(name)
        elif isinstance(value, list):
            granted.update(f"{name}:{item}" for item in value)
    return granted


def _ports(app: CatalogApp) -> set[str]:
    return {
        f"{member.name} {port.host or '-'}->{port.container}/{port.protocol} ({port.expose})"
        for member in app.manifest.containers
        for port in member.ports
    }


def _images(app: CatalogApp) -> dict[str, str]:
    return {image.member: image.pinned_reference for image in app.images}


def _companions(app: CatalogApp) -> dict[str, str]:
    """member -> the companion image a node loads (its id and archive), or the :local override."""
    return {
        c.member: "local override"
        if c.archive is None
        else f"{c.image} id {c.image_id} archive {c.archive.length} bytes blake3 {c.archive.blake3}"
        for c in app.companions
    }


def _icon(app: CatalogApp) -> str:
    return "none" if app.icon is None else f"blake3 {app.icon.blake3}"


def _hooks(app: CatalogApp) -> dict[str, Any]:
    return app.manifest.hooks.model_dump(mode="json", exclude_defaults=True)


def _set_changes(app_id: str, what: str, before: set[str], after: set[str]) -> list[str]:
    lines = [f"  {app_id}: new {what} {item}" for item in sorted(after - before)]
    lines += [f"  {app_id}: dropped {what} {item}" for item in sorted(before - after)]
    return lines


def _describe_new_app(app_id: str, app: CatalogApp) -> list[str]:
    lines = [f"+ {app_id} {app.version}-r{app.revision} (new app)"]
    lines += [f"  {app_id}: image {member} {ref}" for member, ref in sorted(_images(app).items())]
    lines += [
        f"  {app_id}: companion {member} {text}"
        for member, text in sorted(_companions(app).items())
    ]
    lines += [f"  {app_id}: permission {item}" for item in sorted(_permissions(app))]
    lines += [f"  {app_id}: port {item}" for item in sorted(_ports(app))]
    if _hooks(app):
        lines.append(f"  {app_id}: hooks {_hooks(app)}")
    return lines


def _describe_changed_app(app_id: str, before: CatalogApp, after: CatalogApp) -> list[str]:
    lines: list[str] = []
    old_version = f"{before.version}-r{before.revision}"
    new_version = f"{after.version}-r{after.revision}"
    if old_version != new_version:
        lines.append(f"  {app_id}: version {old_version} -> {new_version}")
    old_images, new_images = _images(before), _images(after)
    for member in sorted(set(old_images) | set(new_images)):
        old_ref, new_ref = old_images.get(member), new_images.get(member)
        if old_ref != new_ref:
            lines.append(
                f"  {app_id}: image {member} {old_ref or '(none)'} -> {new_ref or '(none)'}"
            )
    old_companions, new_companions = _companions(before), _companions(after)
    for member in sorted(set(old_companions) | set(new_companions)):
        old_text, new_text = old_companions.get(member), new_companions.get(member)
        if old_text != new_text:
            lines.append(
                f"  {app_id}: companion {member} {old_text or '(none)'} -> {new_text or '(none)'}"
            )
    if _icon(before) != _icon(after):
        lines.append(f"  {app_id}: icon {_icon(before)} -> {_icon(after)}")
    lines += _set_changes(app_id, "permission", _permissions(before), _permissions(after))
    lines += _set_changes(app_id, "port", _ports(before), _ports(after))
    if _hooks(before) != _hooks(after):
        lines.append(f"  {app_id}: hooks {_hooks(before) or '{}'} -> {_hooks(after) or '{}'}")
    if before.units != after.units:
        changed = sorted(
            name
            for name in set(before.units) | set(after.units)
            if before.units.get(name) != after.units.get(name)
        )
        lines.append(f"  {app_id}: units changed: {', '.join(changed)}")
    if not lines and before.manifest_blake3 != after.manifest_blake3:
        lines.append(f"  {app_id}: manifest text changed (no runtime change)")
    return [f"~ {app_id} {new_version}", *lines] if lines else []


def _node_line(platform: str, target: TargetFile) -> str:
    return f"{platform} {target.length} bytes blake3 {target.blake3}"


def diff_node_binaries(previous: AppCatalog | None, current: AppCatalog) -> list[str]:
    """The ``archy-node`` binaries added, changed or removed, per platform."""
    before = {} if previous is None or previous.node is None else dict(previous.node)
    after = {} if current.node is None else dict(current.node)
    lines: list[str] = []
    for platform in sorted(set(before) | set(after)):
        old, new = before.get(platform), after.get(platform)
        if old is None and new is not None:
            lines.append(f"+ node binary {_node_line(platform, new)} (new)")
        elif new is None and old is not None:
            lines.append(f"- node binary {_node_line(platform, old)} (removed)")
        elif old is not None and new is not None and old != new:
            lines.append(
                f"~ node binary {platform}: {old.length} bytes blake3 {old.blake3} -> "
                f"{new.length} bytes blake3 {new.blake3}"
            )
    return lines


def diff_seeds(previous: AppCatalog | None, current: AppCatalog) -> list[str]:
    before = set() if previous is None else set(previous.seeds)
    after = set(current.seeds)
    return [f"+ seed {url}" for url in sorted(after - before)] + [
        f"- seed {url}" for url in sorted(before - after)
    ]


def diff_catalogs(previous: AppCatalog | None, current: AppCatalog) -> list[str]:
    """Every change from ``previous`` to ``current`` a signer should see, one per line."""
    old_apps = {} if previous is None else dict(previous.apps)
    lines: list[str] = []
    if previous is not None and previous.source.commit != current.source.commit:
        lines.append(f"source commit {previous.source.commit[:12]} -> {current.source.commit[:12]}")
    elif previous is None:
        lines.append(f"first catalog, source commit {current.source.commit[:12]}")
    if current.dev_build:
        lines.append("WARNING: a dev build (never publish this to production)")
    for app_id in sorted(set(old_apps) | set(current.apps)):
        before, after = old_apps.get(app_id), current.apps.get(app_id)
        if before is None and after is not None:
            lines += _describe_new_app(app_id, after)
        elif after is None and before is not None:
            lines.append(f"- {app_id} {before.version}-r{before.revision} (removed)")
        elif before is not None and after is not None:
            lines += _describe_changed_app(app_id, before, after)
    return lines + diff_node_binaries(previous, current) + diff_seeds(previous, current)
