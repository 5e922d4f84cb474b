"""Pull every third-party registry: its own TUF trust, its own catalog, checked whole.

Each registry is pulled with the node's one pull (:func:`node_runtime.fetch.pull.pull`)
over its own state root (``registries/<name>/``): the TUF client workflow from the root
the owner trusted when adding it, so a leaked online key (timestamp, snapshot) cannot get
a catalog past targets the registry's threshold did not sign.  Before the catalog
becomes current, every entry must carry a valid developer signature (by the did:key the
owner pinned, when one was), :func:`signing.developer.third_party_catalog_problems`;
otherwise the whole catalog is refused, its blob removed, and the registry keeps the
catalog it had.  The files of the apps the registry owns here (icons, companion archives)
are brought in like an installed official app's.  One registry failing never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.catalog_model import AppCatalog
from node_runtime.fetch.http import DEFAULT_PULL_DEADLINE_SECONDS
from node_runtime.fetch.pull import PullError, PullResult, pull
from node_runtime.store.paths import NodePaths
from node_runtime.store.registry_state import (
    RegistryRecord,
    list_registries,
    read_app_registries,
    registry_paths,
)
from signing.developer import third_party_catalog_problems

SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class RegistryPull:
    name: str
    result: PullResult | None
    error: PullError | None

    def to_json(self) -> dict[str, object]:
        if self.result is None:
            assert self.error is not None
            return {"registry": self.name, "ok": False, "step": self.error.step,
                    "error": str(self.error)}  # fmt: skip
        return {
            "registry": self.name,
            "ok": True,
            "changed": self.result.changed,
            "catalog": self.result.pointer.model_dump(mode="json"),
            "downloaded": self.result.downloaded,
        }


def developer_check(record: RegistryRecord) -> Callable[[AppCatalog], str | None]:
    """The check a registry's catalog must pass: every entry signed by its developer."""

    def check(catalog: AppCatalog) -> str | None:
        problems = third_party_catalog_problems(catalog, record.did)
        if not problems:
            return None
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        return f"{shown}{f' (and {more} more)' if more > 0 else ''}"

    return check


def pull_registry(
    paths: NodePaths,
    record: RegistryRecord,
    report: Callable[[str], None] | None = None,
    deadline_seconds: float | None = DEFAULT_PULL_DEADLINE_SECONDS,
) -> RegistryPull:
    owned = [app for app, owner in read_app_registries(paths).apps.items() if owner == record.name]
    try:
        result = pull(
            registry_paths(paths, record.name),
            report=report,
            deadline_seconds=deadline_seconds,
            check_catalog=developer_check(record),
            app_ids=sorted(owned),
        )
    except PullError as error:
        return RegistryPull(record.name, None, error)
    return RegistryPull(record.name, result, None)


def pull_registries(
    paths: NodePaths,
    report: Callable[[str], None] | None = None,
    deadline_seconds: float | None = DEFAULT_PULL_DEADLINE_SECONDS,
) -> list[RegistryPull]:
    """Pull each added registry in name order; each outcome is reported, none raises."""
    return [
        pull_registry(paths, record, report, deadline_seconds) for record in list_registries(paths)
    ]
