"""The last step of a publish: the storefront, after the timestamp (DESIGN §6).

``publish_storefront`` reads back what the origin now serves through the TUF
chain (from the newest root the ceremony trusts), renders the storefront and
writes it to the origin: ``store/…`` first, ``index.html`` last, so the index
never links to a page that is not there yet.  These files are mutable and no
trust decision depends on them; a node never reads them.  Files that already
hold the same bytes are skipped.

It lives beside the storefront it renders, above :mod:`pipeline.publish` (whose
origins and layout it uses), so publishing knows nothing of the storefront but
its paths.

Public API: ``publish_storefront(origin, trusted_root, now) -> StorefrontReport``,
``storefront_order(paths)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipeline.publish.layout import is_storefront, publish_order
from pipeline.publish.origin import Origin
from pipeline.storefront.site import render_site
from pipeline.storefront.verified_repository import read_verified_repository


@dataclass
class StorefrontReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def storefront_order(paths: list[str]) -> list[str]:
    """Pages, icons and assets first; the index last (the publish order's last step)."""
    return publish_order(paths)


def publish_storefront(origin: Origin, trusted_root: bytes, now: datetime) -> StorefrontReport:
    files = render_site(read_verified_repository(origin, trusted_root, now))
    assert all(is_storefront(path) for path in files)  # never a metadata or target path
    report = StorefrontReport()
    for path in storefront_order(list(files)):
        if origin.read(path) == files[path]:
            report.skipped.append(path)
            continue
        origin.overwrite(path, files[path])  # unconditional: not guarded like the timestamp
        report.written.append(path)
    return report
