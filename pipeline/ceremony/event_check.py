"""Re-check what a targets event signs, from the signed metadata down, before anyone sees it.

CI writes a signing event's files; CI may be hostile.  So nothing an event
holds is taken on faith: the catalog bytes must be the ones the event's
targets metadata names (BLAKE3 and length), the metadata must list exactly
the catalog and the files the catalog refers to, and every embedded manifest
goes through the build's own checks again — schema (it parses back to the
same canonical bytes), per-app policy and cross-app rules, images pinned as
the manifest names them — and its units are
rendered again with the build's own renderer and must be byte-identical to
the catalog's.  A developer's registry (any entry carries a ``developer``
signature) must have every entry signed, validly, by one did:key: CI cannot
drop, swap or forge a developer signature between the build and the signers.
``ceremony open``, ``ceremony sign`` and ``publish`` call :func:`verify_targets_event`
before they show or upload anything.

Public API: ``verify_targets_event(targets, catalog_bytes, root, app_files, deltas)
-> AppCatalog``,
``signed_catalog(targets, catalog_bytes) -> AppCatalog``,
``check_catalog_apps(catalog)``, ``first_difference(expected, found)``,
``EventCheckError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog.app_network import network_for_developer
from catalog.catalog_model import (
    CATALOG_NAME,
    AppCatalog,
    CatalogApp,
    CatalogError,
    ImagePin,
    parse_catalog,
)
from catalog.loader import ManifestSource
from catalog.manifest_fields import parse_image_reference
from pipeline.build_types import BuildRefused, SilentProgress
from pipeline.catalog_build import (
    default_renderer,
    manifest_check_problems,
    render_all,
    round_trip_problem,
)
from pipeline.ceremony.event import CeremonyError
from pipeline.ceremony.layout_check import check_split_targets
from signing.developer import third_party_catalog_problems
from signing.errors import TufError
from signing.hashing import verify_length_and_hashes
from signing.metadata import Metadata, Root, Targets


class EventCheckError(CeremonyError):
    """What the event signs does not pass the checks the build runs; nothing is shown."""


def _one_line(problems: list[str]) -> str:
    first = problems[0].replace("\n", " ")
    return first if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)"


def signed_catalog(targets: Targets, catalog_bytes: bytes | None) -> AppCatalog:
    """The catalog ``targets`` signs, parsed; refused unless the bytes are exactly those."""
    signed = targets.targets.get(CATALOG_NAME)
    if signed is None:
        raise EventCheckError(f"the targets metadata (v{targets.version}) names no {CATALOG_NAME}")
    if "blake3" not in signed.hashes:
        raise EventCheckError(
            f"the targets metadata (v{targets.version}) gives no BLAKE3 for {CATALOG_NAME}"
        )
    if catalog_bytes is None:
        raise EventCheckError(f"the event holds no {CATALOG_NAME} (the file is missing)")
    try:
        verify_length_and_hashes(catalog_bytes, signed.length, signed.hashes)
    except TufError as error:
        raise EventCheckError(
            f"{CATALOG_NAME} is not the catalog the targets metadata (v{targets.version}) "
            f"signs ({error})"
        ) from None
    try:
        return parse_catalog(catalog_bytes)
    except CatalogError as error:
        raise EventCheckError(f"{CATALOG_NAME}: {error}") from None


def _check_target_list(targets: Targets, catalog: AppCatalog) -> None:
    """The metadata signs the catalog and exactly the files the catalog names, nothing else."""
    if targets.delegations is not None:
        raise EventCheckError(
            f"the targets metadata (v{targets.version}) delegates to other roles; "
            "a flat event never delegates (a split one holds its app-files role)"
        )
    named = {target.name: target for target in catalog.targets()}
    for name, info in sorted(targets.targets.items()):
        if name == CATALOG_NAME:
            continue
        expected = named.get(name)
        if expected is None:
            raise EventCheckError(
                f"the targets metadata signs {name}, which {CATALOG_NAME} does not name"
            )
        if info.length != expected.length or info.hashes.get("blake3") != expected.blake3:
            raise EventCheckError(
                f"the targets metadata signs {name} with another BLAKE3 or length "
                f"than {CATALOG_NAME} gives for it"
            )
    missing = sorted(set(named) - set(targets.targets))
    if missing:
        raise EventCheckError(
            f"{CATALOG_NAME} names {missing[0]}, which the targets metadata does not sign"
        )


def first_difference(expected: str, found: str) -> tuple[int, str, str]:
    """(1-based line number, expected line, found line) of the first line that differs."""
    expected_lines = expected.split("\n")
    found_lines = found.split("\n")
    for index in range(max(len(expected_lines), len(found_lines))):
        want = expected_lines[index] if index < len(expected_lines) else "(end of unit)"
        got = found_lines[index] if index < len(found_lines) else "(end of unit)"
        if want != got:
            return index + 1, want, got
    return 0, "", ""  # equal texts


def _unit_mismatch(app_id: str, expected: dict[str, str], found: dict[str, str]) -> str | None:
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            return f"apps/{app_id}: unit {name} is missing from the catalog"
        if name not in expected:
            return f"apps/{app_id}: unit {name} is not one the manifest renders"
        if expected[name] != found[name]:
            line, want, got = first_difference(expected[name], found[name])
            return (
                f"apps/{app_id}: unit {name} line {line} differs from what the manifest "
                f"renders: expected {want!r}, found {got!r}"
            )
    return None


def _image_problems(app_id: str, app: CatalogApp) -> list[str]:
    """The app's pinned images must be the manifest's members' images, as the build pins them."""
    members = app.manifest.containers
    if [image.member for image in app.images] != [member.name for member in members]:
        return [f"apps/{app_id}: images do not list the manifest's members in order"]
    problems = []
    for image, member in zip(app.images, members, strict=True):
        repository, tag, pinned = parse_image_reference(member.image)
        if image.reference != f"{repository}:{tag}":
            problems.append(
                f"apps/{app_id}: image of {member.name} is {image.reference!r}, "
                f"the manifest names {repository}:{tag}"
            )
        elif pinned is not None and image.digest != pinned:
            problems.append(
                f"apps/{app_id}: image of {member.name} is pinned to {image.digest}, "
                f"the manifest pins {pinned}"
            )
        elif image.companion != (member.build is not None):
            problems.append(f"apps/{app_id}: image of {member.name}: companion flag is wrong")
    return problems


def _pin_problems(catalog: AppCatalog) -> list[str]:
    """The catalog-level ``images`` table says what the apps' own pins say, nothing else."""
    pins = {
        image.reference: ImagePin(digest=image.digest, platforms=image.platforms)
        for app in catalog.apps.values()
        for image in app.images
        if not image.companion
    }
    if dict(catalog.images) != pins:
        return ["images: the catalog's image table differs from the apps' pinned images"]
    return []


def _developer_problems(catalog: AppCatalog) -> list[str]:
    """None for a catalog no developer signed; else every entry signed by the one did:key."""
    signers = sorted({app.developer.did for app in catalog.apps.values() if app.developer})
    if not signers:
        return []
    if len(signers) > 1:
        return [f"apps: entries are signed by {len(signers)} developers ({', '.join(signers)})"]
    return third_party_catalog_problems(catalog, signers[0])


def check_catalog_apps(catalog: AppCatalog) -> None:
    """Re-run the build's checks on every embedded manifest and re-render every app's units."""
    sources = [
        ManifestSource(app.manifest, f"apps/{app_id}/manifest.yml", {})
        for app_id, app in sorted(catalog.apps.items())
    ]
    problems = [
        problem
        for problem in (round_trip_problem(source.manifest) for source in sources)
        if problem is not None
    ]
    for app_id, app in sorted(catalog.apps.items()):
        problems.extend(_image_problems(app_id, app))
    problems.extend(_pin_problems(catalog))
    problems.extend(_developer_problems(catalog))
    errors, _warnings = manifest_check_problems(sources)
    problems.extend(errors)
    if problems:
        raise EventCheckError(f"{CATALOG_NAME}: {_one_line(problems)}")
    apps = {
        app_id: (source, list(app.images), app.icon)
        for source, (app_id, app) in zip(sources, sorted(catalog.apps.items()), strict=True)
    }
    try:
        signers = {app.developer.did for app in catalog.apps.values() if app.developer}
        network = network_for_developer(min(signers) if signers else None)  # one (checked above)
        rendered = render_all(apps, default_renderer(network), SilentProgress(), network=network)
    except BuildRefused as error:
        raise EventCheckError(f"{CATALOG_NAME}: {_one_line(error.problems)}") from None
    mismatches = [
        mismatch
        for app_id, app in sorted(catalog.apps.items())
        if (mismatch := _unit_mismatch(app_id, rendered[app_id], dict(app.units))) is not None
    ]
    if mismatches:
        raise EventCheckError(f"{CATALOG_NAME}: {_one_line(mismatches)}")


def verify_targets_event(
    targets: Targets,
    catalog_bytes: bytes | None,
    root: Root,
    app_files: Metadata[Targets] | None = None,
    deltas: Sequence[tuple[str, bytes]] = (),
) -> AppCatalog:
    """Everything above, in order; the catalog when all of it passes.

    A flat event (no delegation: events opened before the split layout) lists
    every file itself; a split one is checked by
    :func:`pipeline.ceremony.layout_check.check_split_targets` under ``root``.
    """
    catalog = signed_catalog(targets, catalog_bytes)
    if targets.delegations is None and app_files is None and not deltas:
        _check_target_list(targets, catalog)
    else:
        check_split_targets(targets, app_files, deltas, catalog, root)
    check_catalog_apps(catalog)
    return catalog
