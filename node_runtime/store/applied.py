"""``state/applied.json``: per app, the last successful apply (the rollback target).

:class:`AppliedApp` is the one model of an applied app: the record the apply
writes, and what the planner reconciles an app back to.  It keeps the whole
applied catalog entry (``catalog_app``) and the data root it was applied with,
so a rollback never depends on an old catalog still being in the store.  A
record written before ``catalog_app`` was kept (or whose entry no longer parses)
is resolved from the catalog blob it names, while the store still has it:
:func:`read_applied` returns only records whose entry is known.

Only this module reads or writes the file (through ``state_file``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler, field_validator

from catalog.catalog_model import AppCatalog, CatalogApp, parse_catalog
from node_runtime.store.blob_store import BlobError, BlobStore
from node_runtime.store.paths import NodePaths, utc_now_text
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model,
)


class AppliedApp(StateModel):
    """What the apply last brought one app to, successfully (the rollback target)."""

    version: str
    revision: int
    manifest_blake3: str
    catalog_blake3: str = Field(description="the catalog blob the app was applied from")
    units: dict[str, str] = Field(
        default_factory=dict, description="the unit files as applied (the rollback target)"
    )
    applied_at: str
    data_root: str = Field(default="", description="the data root the app was applied with")
    catalog_app: CatalogApp | None = Field(
        default=None, description="the whole catalog entry that was applied"
    )

    @field_validator("catalog_app", mode="wrap")
    @classmethod
    def _unreadable_entry_is_unknown(
        cls, value: Any, handler: ValidatorFunctionWrapHandler
    ) -> CatalogApp | None:
        # An entry this binary cannot read is resolved from the catalog blob instead.
        try:
            return handler(value)  # type: ignore[no-any-return]
        except ValidationError:
            return None

    @field_validator("data_root", mode="before")
    @classmethod
    def _no_data_root_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @classmethod
    def of(
        cls,
        app: CatalogApp,
        data_root: str,
        *,
        catalog_blake3: str = "",
        applied_at: str | None = None,
    ) -> AppliedApp:
        """The record of ``app`` applied with ``data_root`` from catalog ``catalog_blake3``."""
        return cls(
            version=app.version,
            revision=app.revision,
            manifest_blake3=app.manifest_blake3,
            catalog_blake3=catalog_blake3,
            units=dict(app.units),
            applied_at=applied_at or utc_now_text(),
            data_root=data_root,
            catalog_app=app,
        )

    @property
    def version_text(self) -> str:
        return f"{self.version}-r{self.revision}"

    @property
    def app(self) -> CatalogApp:
        """The applied catalog entry (records from :func:`read_applied` always have one)."""
        if self.catalog_app is None:
            raise LookupError(f"the applied record of {self.version_text} has no catalog entry")
        return self.catalog_app


class AppliedApps(StateModel):
    """``state/applied.json``: per app, the last successful apply."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, AppliedApp] = Field(default_factory=dict)


def read_applied_file(paths: NodePaths) -> AppliedApps:
    """The records as written (an old record may lack its catalog entry)."""
    return load_model(paths.applied_file, AppliedApps) or AppliedApps()


def save_applied_file(paths: NodePaths, applied: AppliedApps) -> None:
    save_model(paths.applied_file, applied)


def record_applied(paths: NodePaths, app_id: str, app: AppliedApp) -> None:
    current = read_applied_file(paths)
    save_applied_file(paths, current.model_copy(update={"apps": {**current.apps, app_id: app}}))


def forget_applied(paths: NodePaths, app_id: str) -> None:
    current = read_applied_file(paths)
    if app_id in current.apps:
        remaining = {k: v for k, v in current.apps.items() if k != app_id}
        save_applied_file(paths, current.model_copy(update={"apps": remaining}))


def read_applied(paths: NodePaths) -> dict[str, AppliedApp]:
    """The applied records whose catalog entry is known (kept in the record, else read from
    the catalog blob it was applied from, while the store still has it)."""
    store = BlobStore(paths.blobs_dir)
    catalogs: dict[str, AppCatalog | None] = {}
    result: dict[str, AppliedApp] = {}
    for app_id, record in read_applied_file(paths).apps.items():
        app = record.catalog_app
        if app is None:
            if record.catalog_blake3 not in catalogs:
                try:
                    data = store.read_verified(record.catalog_blake3)
                    catalogs[record.catalog_blake3] = parse_catalog(data)
                except (BlobError, ValueError):
                    catalogs[record.catalog_blake3] = None
            catalog = catalogs[record.catalog_blake3]
            app = None if catalog is None else catalog.apps.get(app_id)
        if app is not None and app.manifest_blake3 == record.manifest_blake3:
            result[app_id] = record.model_copy(update={"catalog_app": app})
    return result
