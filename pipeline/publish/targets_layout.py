"""How the signed targets are split between metadata files, so an update stays small.

A node downloads the top-level ``targets.json`` whenever its version
changes, that is on every catalog change.  Listing every app's icon and
companion archive there makes it grow with the app set (about 250 bytes per
file: 250 KB at 1,000 apps, every update).  So the top-level role names only
what a node looks up through TUF — ``app-catalog.json``, the catalog deltas,
node binaries — and delegates ``icons/*`` and ``companions/*`` to the role
``app-files``, signed by the same keys and threshold as ``targets`` (the
maintainers' offline keys: nothing moves to an online key).

A node never reads ``app-files``: it fetches icons and archives by the BLAKE3
and length the signed catalog records.  ``app-files`` is there for standard
TUF clients (python-tuf finds every file by delegation) and seeds.  Its
version changes only when a per-app file changes; an unchanged one is
published again as the same bytes and is not re-signed.

Public API: ``APP_FILES_ROLE``, ``APP_FILES_PATHS``, ``is_app_file(name)``,
``split_targets(artifacts, version, expires, keys, threshold, published_app_files,
renew_before) -> SplitTargets``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from signing import repository as tuf_repository
from signing.keys import PublicKey
from signing.metadata import Targets

APP_FILES_ROLE = "app-files"
APP_FILES_PATHS = ("icons/*", "companions/*")


def is_app_file(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in APP_FILES_PATHS)


@dataclass(frozen=True)
class SplitTargets:
    top_level: Targets
    app_files: Targets
    app_files_changed: bool
    """False when ``app_files`` is the published role as it is (nothing to sign)."""


def split_targets(
    artifacts: Mapping[str, bytes],
    version: int,
    expires: datetime,
    keys: Sequence[PublicKey],
    threshold: int,
    published_app_files: Targets | None,
    renew_before: datetime,
) -> SplitTargets:
    """The unsigned top-level targets (version ``version``) and the ``app-files`` role.

    ``published_app_files`` is the role the origin serves now (None at the
    first publish): kept as it is when it lists exactly these files and
    expires after ``renew_before``, otherwise replaced by its next version.
    """
    top = Targets(version, expires)
    files = Targets(1 if published_app_files is None else published_app_files.version + 1, expires)
    for name, data in sorted(artifacts.items()):
        target = tuf_repository.target_file(name, data)
        if is_app_file(name):
            files = tuf_repository.add_target(files, target)
        else:
            top = tuf_repository.add_target(top, target)
    top = tuf_repository.delegate(
        top, APP_FILES_ROLE, keys, paths=APP_FILES_PATHS, threshold=threshold, terminating=True
    )
    if (
        published_app_files is not None
        and published_app_files.expires > renew_before
        and dict(published_app_files.targets) == dict(files.targets)
    ):
        return SplitTargets(top, published_app_files, app_files_changed=False)
    return SplitTargets(top, files, app_files_changed=True)
