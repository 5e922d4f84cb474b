"""Re-check what a split-layout targets event lists: the delegation, ``app-files`` and deltas.

The split layout (:mod:`pipeline.publish.targets_layout`) signs two roles: the
top-level ``targets`` (the catalog, its deltas, node binaries) delegating
``icons/*`` and ``companions/*`` to ``app-files``.  CI writes both; CI may be
hostile.  So before anything is shown or signed:

- the top-level delegates to ``app-files`` alone, terminating, for exactly
  those paths, with the trusted root's targets keys and threshold (nothing
  moves to another key);
- ``app-files`` lists only per-app files and delegates nothing; together the
  two roles list exactly the files the catalog names, by its BLAKE3 and length;
- every other top-level entry is a delta ``catalog-deltas/<base blake3>.patch``,
  the event holds its bytes as signed, and each one, applied to the accepted
  catalog it names, rebuilds this catalog byte for byte.

Public API: ``check_split_targets(targets, app_files, deltas, catalog, root)``,
``check_delta_bases(deltas, catalog_bytes, bases)``, ``is_delta_name(name)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from catalog.catalog_delta import DELTA_DIR, DeltaError, apply_delta
from catalog.catalog_model import CATALOG_NAME, AppCatalog
from pipeline.ceremony.event import CeremonyError
from pipeline.publish.targets_layout import APP_FILES_PATHS, APP_FILES_ROLE, is_app_file
from signing.errors import TufError
from signing.hashing import verify_length_and_hashes
from signing.metadata import Metadata, Root, TargetFile, Targets

_DELTA_NAME = re.compile(rf"^{DELTA_DIR}/([0-9a-f]{{64}})\.patch$")


class LayoutCheckError(CeremonyError):
    """The event's split layout is not what the ceremony signs; nothing is shown."""


def is_delta_name(name: str) -> bool:
    return name.startswith(f"{DELTA_DIR}/")


def _check_delegation(targets: Targets, root: Root) -> None:
    delegations = targets.delegations
    roles = None if delegations is None else delegations.roles
    where = f"the targets metadata (v{targets.version})"
    if delegations is None or roles is None or set(roles) != {APP_FILES_ROLE}:
        raise LayoutCheckError(f"{where} must delegate to the role {APP_FILES_ROLE} alone")
    role = roles[APP_FILES_ROLE]
    if tuple(role.paths or ()) != APP_FILES_PATHS or not role.terminating:
        raise LayoutCheckError(
            f"{where} delegates other paths than {', '.join(APP_FILES_PATHS)} "
            f"(terminating) to {APP_FILES_ROLE}"
        )
    expected = root.roles["targets"]
    keys_match = all(delegations.keys.get(k) == root.keys.get(k) for k in role.keyids)
    if set(role.keyids) != set(expected.keyids) or role.threshold != expected.threshold:
        keys_match = False
    if not keys_match:
        raise LayoutCheckError(
            f"{where} delegates {APP_FILES_ROLE} to other keys or another threshold than the "
            f"targets role of root v{root.version}"
        )


def _check_listing(listing: Mapping[str, TargetFile], catalog: AppCatalog) -> None:
    named = {target.name: target for target in catalog.targets()}
    for name, info in sorted(listing.items()):
        expected = named.get(name)
        if expected is None:
            raise LayoutCheckError(
                f"the targets metadata signs {name}, which {CATALOG_NAME} does not name"
            )
        if info.length != expected.length or info.hashes.get("blake3") != expected.blake3:
            raise LayoutCheckError(
                f"the targets metadata signs {name} with another BLAKE3 or length "
                f"than {CATALOG_NAME} gives for it"
            )
    missing = sorted(set(named) - set(listing))
    if missing:
        raise LayoutCheckError(
            f"{CATALOG_NAME} names {missing[0]}, which the targets metadata does not sign"
        )


def _check_deltas(targets: Targets, deltas: Sequence[tuple[str, bytes]]) -> None:
    signed = {name: info for name, info in targets.targets.items() if is_delta_name(name)}
    held = dict(deltas)
    for name in sorted(signed):
        if not _DELTA_NAME.fullmatch(name):
            raise LayoutCheckError(f"the targets metadata signs {name}, which is not a delta name")
    if set(held) != set(signed):
        odd = sorted(set(held) ^ set(signed))[0]
        raise LayoutCheckError(
            f"{odd}: the event's deltas and the ones its targets metadata signs differ"
        )
    for name, data in sorted(held.items()):
        try:
            verify_length_and_hashes(data, signed[name].length, signed[name].hashes)
        except TufError:
            raise LayoutCheckError(f"{name}: not the delta the targets metadata signs") from None


def check_split_targets(
    targets: Targets,
    app_files: Metadata[Targets] | None,
    deltas: Sequence[tuple[str, bytes]],
    catalog: AppCatalog,
    root: Root,
) -> None:
    """Everything in the module docstring except what the deltas rebuild."""
    if app_files is None:
        raise LayoutCheckError(
            f"the targets metadata (v{targets.version}) delegates to {APP_FILES_ROLE}, "
            f"but the event holds no {APP_FILES_ROLE} role"
        )
    _check_delegation(targets, root)
    files = app_files.signed
    if files.delegations is not None:
        raise LayoutCheckError(f"{APP_FILES_ROLE} v{files.version} delegates further")
    for name in sorted(files.targets):
        if not is_app_file(name):
            raise LayoutCheckError(f"{APP_FILES_ROLE} signs {name}, which is not a per-app file")
    top = {
        name: info
        for name, info in targets.targets.items()
        if name != CATALOG_NAME and not is_delta_name(name)
    }
    for name in sorted(top):
        if is_app_file(name):
            raise LayoutCheckError(
                f"the targets metadata signs {name} itself; it belongs to {APP_FILES_ROLE}"
            )
    _check_listing({**top, **files.targets}, catalog)
    _check_deltas(targets, deltas)


def check_delta_bases(
    deltas: Sequence[tuple[str, bytes]], catalog_bytes: bytes, bases: Mapping[str, bytes]
) -> None:
    """Each delta, applied to the catalog it names (``bases``: by BLAKE3), is the catalog."""
    for name, data in deltas:
        match = _DELTA_NAME.fullmatch(name)
        base = None if match is None else bases.get(match.group(1))
        if base is None:
            raise LayoutCheckError(f"{name}: a delta from a catalog no accepted event holds")
        try:
            rebuilt = apply_delta(base, data, len(catalog_bytes))
        except DeltaError as error:
            raise LayoutCheckError(f"{name}: does not apply to its base ({error})") from None
        if rebuilt != catalog_bytes:
            raise LayoutCheckError(f"{name}: does not rebuild {CATALOG_NAME} byte for byte")
