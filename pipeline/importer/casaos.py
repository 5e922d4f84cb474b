"""CasaOS's app format: one ``docker-compose.yml`` with an ``x-casaos`` block.

The top-level ``x-casaos`` block holds the store metadata (``title``,
``tagline``, ``description`` as locale-keyed text, ``category``, ``author``,
``developer``, ``architectures``, ``version``) and names the web UI: ``main``
(the service), ``port_map`` (the published host port), ``index`` (the path).
The compose project ``name`` is the store app id.  CasaOS provides ``$PUID``,
``$PGID``, ``$TZ`` and ``$AppID``, and keeps app data under
``/DATA/AppData/<AppID>/``, which is the app's data dir here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.importer.compose import parse_project
from pipeline.importer.compose_values import parse_env_file_text
from pipeline.importer.compose_yaml import load_yaml
from pipeline.importer.reasons import refuse
from pipeline.importer.source_app import (
    AppMeta,
    PlatformValue,
    PlatformVariables,
    SourceApp,
    UiHint,
    local_svg_icon,
    read_source_file,
    text_of,
)

COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml")
CASAOS_DATA = "/DATA/AppData"


def localized(value: Any) -> str | None:
    """``{en_us: …, zh_cn: …}`` -> the English text (any case of the locale key)."""
    if isinstance(value, dict):
        lowered = {str(key).lower(): item for key, item in value.items()}
        for key in ("en_us", "en_gb", "en"):
            if key in lowered:
                return text_of(lowered[key])
        return next((text_of(item) for item in lowered.values() if text_of(item)), None)
    return text_of(value)


def platform_variables(app_id: str) -> dict[str, PlatformValue]:
    return {
        "PUID": PlatformValue("1000"),
        "PGID": PlatformValue("1000"),
        "TZ": PlatformValue("Etc/UTC"),
        "AppID": PlatformValue(app_id),
    }


def _meta(
    block: dict[str, Any], shown: str, lines: dict[str, int | None], name: str | None
) -> AppMeta:
    meta = AppMeta(file=shown, lines=lines)
    meta.id = name or text_of(block.get("store_app_id")) or text_of(block.get("id"))
    meta.name = localized(block.get("title")) or meta.id
    meta.version = text_of(block.get("version"))
    meta.summary = localized(block.get("tagline"))
    meta.description = localized(block.get("description"))
    meta.category = text_of(block.get("category"))
    meta.developer = text_of(block.get("developer"))
    meta.website = text_of(block.get("website"))
    meta.repo = text_of(block.get("repo"))
    meta.support = text_of(block.get("support"))
    meta.release_notes = localized(block.get("release_notes"))
    architectures = block.get("architectures")
    if isinstance(architectures, list):
        meta.architectures = [str(item).strip().lower() for item in architectures]
    index = text_of(block.get("index"))
    meta.ui_path = index if index is None or index.startswith("/") else f"/{index}"
    port = text_of(block.get("port_map"))
    meta.port = int(port) if port is not None and port.isdigit() and 0 < int(port) < 65536 else None
    return meta


def read_casaos_app(folder: Path, source: str) -> SourceApp:
    """Read one CasaOS app folder; refuse with file:line when it is not one."""
    compose_name = next(
        (name for name in COMPOSE_FILES if (folder / name).exists()), COMPOSE_FILES[0]
    )
    shown = f"{source.rstrip('/')}/{compose_name}"
    data = read_source_file(folder, compose_name, shown)
    if data is None:
        raise refuse("I001", f"no {compose_name} (is this a CasaOS app folder?)", source)
    document = load_yaml(data, shown)
    if not isinstance(document.data, dict):
        raise refuse("I001", "a Compose file is a mapping with services:", shown, 1)
    block = document.data.get("x-casaos")
    if not isinstance(block, dict):
        raise refuse("I001", "no top-level x-casaos block (is this a CasaOS app?)", shown, 1)
    lines = {str(key): document.line_of(("x-casaos", key)) for key in block}
    name = text_of(document.data.get("name"))
    meta = _meta(block, shown, lines, name)
    if meta.id is None:
        raise refuse("I001", "no compose name: (the store app id)", shown, 1)
    app_id = re.sub(r"[^a-z0-9-]+", "-", meta.id.lower()).strip("-") or "app"
    dotenv = read_source_file(folder, ".env", f"{source.rstrip('/')}/.env")
    own = {} if dotenv is None else parse_env_file_text(dotenv.decode("utf-8", "replace"))
    variables = PlatformVariables(platform_variables(meta.id), own)

    def read_file(relative: str, what: str, line: int | None) -> bytes | None:
        return read_source_file(folder, relative, shown, line)

    project = parse_project(document, variables, read_file)
    app = SourceApp("casaos", folder, source, meta, project, variables, None)
    app.reasons.extend(project.interpolation_warnings)
    app.data_dir_aliases = sorted({f"{CASAOS_DATA}/{meta.id}", f"{CASAOS_DATA}/{app_id}"})
    app.icon = local_svg_icon(folder)
    main = text_of(block.get("main"))
    if main is not None and project.service(main) is None:
        raise refuse("I001", f"x-casaos.main {main!r} is not a service", shown, lines.get("main"))
    for service in project.services:
        container_name = service.raw.get("container_name")
        if isinstance(container_name, str):
            app.hostnames[container_name] = service.name
    if main is not None or meta.port is not None:
        app.ui = UiHint(main, None, meta.port, meta.ui_path or "/", shown, lines.get("main"))
    return app
