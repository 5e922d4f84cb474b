"""The catalog's canonical bytes from per-app parts, and the previous catalog without a re-parse.

A one-app change should cost one app's work.  Two things used to cost the whole
catalog on every build:

* **Encoding and checking the catalog.**  :func:`catalog_bytes` encodes each app
  entry on its own (its canonical JSON: a *part*), checks that the part parses
  back to the same bytes, and caches it under everything the entry is made of
  (app id, manifest BLAKE3, units, images, icon, companions, developer
  signature).  The catalog is the top level's canonical bytes with the parts
  spliced in, in JCS key order: exactly what ``AppCatalog.to_canonical`` writes
  (``tests/unit/build/test_catalog_parts.py`` compares them on random edits).
* **Parsing the previous catalog.**  A catalog this code wrote and checked is
  remembered by the BLAKE3 of its bytes with a summary; reading it as the previous
  catalog then loads only what the change check and the companion step need
  (versions, digests, icons, images, companions), not the embedded manifests.

Both live in the build cache, whose entries are MAC'd (:mod:`pipeline.build_cache`):
an entry nobody with the secret wrote is a miss, never an input.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_model import (
    AppCatalog,
    AppImage,
    CatalogApp,
    CatalogError,
    Companion,
    SourceInfo,
    TargetFile,
    parse_catalog,
)
from pipeline.build_cache import BuildCache, CanonicalBytes, cache_key, entry_parses_back

CHECKED_KIND = "checked-catalogs"
PARTS_KIND = "entry-parts"


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _checked_key(data: bytes) -> str:
    return cache_key("checked-catalog", blake3_hex(data).encode())


def app_summary(app: CatalogApp) -> dict[str, Any]:
    """What the next build reads of one entry, in the catalog's own JSON shapes."""
    return {
        "version": app.version,
        "revision": app.revision,
        "manifest_blake3": app.manifest_blake3,
        "images": [image.model_dump(mode="json") for image in app.images],
        "icon": None if app.icon is None else app.icon.model_dump(mode="json"),
        "companions": [c.model_dump(mode="json", by_alias=True) for c in app.companions],
    }


def summary_value(
    catalog: AppCatalog, known: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the next build reads of ``catalog``; ``known`` holds entries' summaries made before."""
    known = known or {}
    return {
        "schema": catalog.schema_version,
        "source": catalog.source.model_dump(mode="json"),
        "dev_build": catalog.dev_build,
        "apps": {
            app_id: known[app_id] if app_id in known else app_summary(app)
            for app_id, app in catalog.apps.items()
        },
    }


def remember_checked(
    cache: BuildCache | None,
    data: bytes,
    catalog: AppCatalog,
    known: Mapping[str, dict[str, Any]] | None = None,
) -> None:
    """Record that ``data`` (``catalog``'s bytes) parses and encodes back to itself, with
    the summary the next build reads instead of parsing it again."""
    if cache is not None:
        cache.put(CHECKED_KIND, _checked_key(data), summary_value(catalog, known))


def _summary(document: dict[str, Any]) -> AppCatalog:
    """The parts of a checked catalog the next build reads; manifests and units left out.

    ``document`` is a catalog document or its :func:`summary_value` (the same shapes).
    """
    apps: dict[str, CatalogApp] = {}
    for app_id, entry in document["apps"].items():
        icon = entry.get("icon")
        apps[app_id] = CatalogApp.model_construct(
            version=entry["version"],
            revision=entry["revision"],
            manifest_blake3=entry["manifest_blake3"],
            units={},
            images=[AppImage.model_validate(image) for image in entry["images"]],
            icon=None if icon is None else TargetFile.model_validate(icon),
            companions=[Companion.model_validate(each) for each in entry.get("companions", [])],
        )
    return AppCatalog.model_construct(
        schema_version=document["schema"],
        source=SourceInfo.model_validate(document["source"]),
        dev_build=document["dev_build"],
        apps=apps,
        images={},
        node=None,
        seeds=[],
    )


def read_previous(path: Path, cache: BuildCache | None) -> AppCatalog:
    """The previous catalog: fully parsed, or summarised when this code checked these bytes.

    The summary has no ``manifest``, ``units``, top-level ``images`` or ``node``:
    the change check (:mod:`pipeline.changes`) and the companion step read none of them.
    Raises :class:`CatalogError` for bytes that do not parse.
    """
    data = path.read_bytes()
    if cache is not None:
        summary = cache.get(CHECKED_KIND, _checked_key(data), _summary)
        if summary is not None:
            return summary
    catalog = parse_catalog(data)
    if catalog.to_canonical() == data:
        remember_checked(cache, data, catalog)
    return catalog


def _entry_fingerprint(app_id: str, app: CatalogApp, canon: CanonicalBytes) -> bytes:
    """Everything one entry's bytes are computed from, as an unambiguous text."""
    return json.dumps(
        [
            app_id,
            app.version,
            app.revision,
            canon.blake3(app.manifest),
            app.manifest_blake3,
            app.units,
            [image.model_dump(mode="json") for image in app.images],
            None if app.icon is None else app.icon.model_dump(mode="json"),
            [each.model_dump(mode="json", by_alias=True) for each in app.companions],
            None if app.developer is None else app.developer.model_dump(mode="json"),
        ],
        sort_keys=True,
        ensure_ascii=False,
    ).encode()


def _part(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not an entry part")
    return value


def entry_part(
    app_id: str, app: CatalogApp, cache: BuildCache | None, canon: CanonicalBytes
) -> str | None:
    """The entry's canonical JSON, or None when it does not parse back to itself."""
    key = None if cache is None else cache_key("entry-part", _entry_fingerprint(app_id, app, canon))
    if cache is not None and key is not None:
        cached = cache.get(PARTS_KIND, key, _part)
        if cached is not None:
            return cached
    text = encode_canonical_json(app.model_dump(mode="json", by_alias=True)).decode()
    if not entry_parses_back(app_id, json.loads(text)):
        return None
    if cache is not None and key is not None:
        cache.put(PARTS_KIND, key, text)
    return text


def catalog_bytes(
    catalog: AppCatalog,
    cache: BuildCache | None,
    canon: CanonicalBytes,
    known: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
    made: dict[str, str] | None = None,
) -> bytes | None:
    """``catalog.to_canonical()`` from per-app parts; None when it would not parse back.

    ``known`` holds (part, summary) of entries whose inputs are unchanged since a build
    made them (``pipeline.app_records``); ``made`` receives every other entry's part.
    """
    known = known or {}
    placeholder = f"apps-{secrets.token_hex(16)}"
    skeleton = catalog.model_copy(update={"apps": {}})
    top = skeleton.to_document()
    try:
        if encode_canonical_json(AppCatalog.model_validate(top).to_document()) != (
            encode_canonical_json(top)
        ):
            return None
    except ValueError:
        return None
    outline = encode_canonical_json({**top, "apps": placeholder}).decode()
    quoted = json.dumps(placeholder)
    if outline.count(quoted) != 1:
        return None
    parts: list[str] = []
    for app_id in sorted(catalog.apps, key=_utf16_order):
        if app_id in known:
            part: str | None = known[app_id][0]
        else:
            part = entry_part(app_id, catalog.apps[app_id], cache, canon)
            if made is not None and part is not None:
                made[app_id] = part
        if part is None:
            return None
        parts.append(encode_canonical_json(app_id).decode() + ":" + part)
    data = outline.replace(quoted, "{" + ",".join(parts) + "}").encode()
    remember_checked(cache, data, catalog, {app_id: each[1] for app_id, each in known.items()})
    return data


__all__ = ["CatalogError", "catalog_bytes", "entry_part", "read_previous", "remember_checked"]
