"""Umbrel's app format: ``umbrel-app.yml``, ``docker-compose.yml``, ``exports.sh``.

Umbrel gives every app ``$APP_DATA_DIR`` (its data dir), ``$APP_PASSWORD`` and
``$APP_SEED`` (per-app secrets), variables of the apps it depends on
(``$APP_BITCOIN_NODE_IP``, ``$APP_BITCOIN_RPC_PASS``, ``$APP_LIGHTNING_NODE_GRPC_PORT``,
``$APP_ELECTRS_NODE_IP``, ``$TOR_PROXY_IP`` …), and an ``app_proxy`` service whose
``APP_HOST``/``APP_PORT`` name the container and port of the web UI; the proxy
listens on the ``port`` of ``umbrel-app.yml``.  ``exports.sh`` sets the app's
own variables (usually container IPs and ports) with ``export NAME="value"``.

Each platform variable maps onto what Archipelago has today: bitcoin RPC at
``bitcoind:8332`` (the capability's alias) with user ``archy`` and the provider's
exported ``rpc-password`` (``{secret: rpc-password, from: bitcoin}``, as apps/lnd does),
LND at ``lnd:10009``, Electrs at ``electrs:50001``, Tor's SOCKS proxy at ``tor:9050``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.hostpaths import data_dir
from pipeline.importer.compose import parse_project
from pipeline.importer.compose_values import parse_env_file_text
from pipeline.importer.compose_yaml import load_yaml
from pipeline.importer.reasons import Reason, refuse
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

APP_FILE = "umbrel-app.yml"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml")
EXPORTS_FILE = "exports.sh"
PROXY_SERVICE = "app_proxy"
UMBREL_ROOT = "/home/umbrel/umbrel"

_SHARED_RPC = (
    "the RPC password is the bitcoin provider's exported rpc-password "
    "({secret: rpc-password, from: bitcoin}): the node hands this app that one secret"
)
_LND_DATA = "reads LND's data dir (macaroons, TLS cert) through permissions.host_paths; review it"


def _bitcoin(value: str, permission: str | None = None, **extra: object) -> PlatformValue:
    return PlatformValue(value, requires="bitcoin", permission=permission, **extra)  # type: ignore[arg-type]


def _lnd(value: str, **extra: object) -> PlatformValue:
    return PlatformValue(value, requires="lnd", permission="lightning_rpc", **extra)  # type: ignore[arg-type]


def platform_variables(app_id: str) -> dict[str, PlatformValue]:
    """Umbrel's variables as Archipelago provides them (to an app with ``app_id``)."""
    bitcoin = {
        "NODE_IP": _bitcoin("bitcoind"),
        "RPC_PORT": _bitcoin("8332"),
        "P2P_PORT": _bitcoin("8333"),
        "ZMQ_RAWBLOCK_PORT": _bitcoin("28332"),
        "ZMQ_RAWTX_PORT": _bitcoin("28333"),
        "ZMQ_HASHBLOCK_PORT": _bitcoin("28334"),
        "RPC_USER": _bitcoin("archy", "bitcoin_rpc"),
        "RPC_PASS": _bitcoin(
            "",
            "bitcoin_rpc",
            stands_for="rpc-password",
            from_capability="bitcoin",
            attention=_SHARED_RPC,
        ),
        "NETWORK": _bitcoin("mainnet"),
        "NETWORK_ELECTRS": _bitcoin("bitcoin"),
        "DATA_DIR": _bitcoin(
            f"{data_dir('bitcoin-core')}/data",
            provider_path=True,
            attention="reads Bitcoin Core's data dir through permissions.host_paths "
            "(bitcoin-knots keeps its data elsewhere); review it",
        ),
    }
    table: dict[str, PlatformValue] = {}
    for suffix, value in bitcoin.items():
        table[f"APP_BITCOIN_{suffix}"] = value
        table[f"APP_UMBREL_BITCOIN_{suffix}"] = value
    lnd = {
        "IP": _lnd("lnd"),
        "GRPC_PORT": _lnd("10009"),
        "REST_PORT": _lnd("8080"),
        "PORT": PlatformValue("9735", requires="lnd"),
        "DATA_DIR": _lnd(f"{data_dir('lnd')}/data", provider_path=True, attention=_LND_DATA),
    }
    for suffix, value in lnd.items():
        table[f"APP_LIGHTNING_NODE_{suffix}"] = value
        table[f"LND_{suffix}"] = value
    for suffix, text in (("NODE_IP", "electrs"), ("NODE_PORT", "50001")):
        table[f"APP_ELECTRS_{suffix}"] = PlatformValue(text, requires="electrs")
    table["ELECTRUM_IP"] = PlatformValue("electrs", requires="electrs")
    table["ELECTRUM_PORT"] = PlatformValue("50001", requires="electrs")
    table["TOR_PROXY_IP"] = PlatformValue("tor", requires="tor", permission="tor")
    table["TOR_PROXY_PORT"] = PlatformValue("9050", requires="tor", permission="tor")
    table["APP_PASSWORD"] = PlatformValue("", stands_for="app-password")
    table["APP_SEED"] = PlatformValue("", stands_for="app-seed", charset="hex", length=64)
    table["APP_DATA_DIR"] = PlatformValue(data_dir(app_id))
    table["DEVICE_DOMAIN_NAME"] = PlatformValue("archipelago.local")
    table["DEVICE_HOSTNAME"] = PlatformValue("archipelago")
    table["APP_DOMAIN"] = PlatformValue("archipelago.local")
    table["UMBREL_ROOT"] = PlatformValue(UMBREL_ROOT)
    table["TOR_DATA_DIR"] = PlatformValue(f"{UMBREL_ROOT}/tor/data")
    return table


_EXPORT = re.compile(
    r"""^export\s+([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"$`\\]*)"|'([^']*)'|([^\s"'$`;|&]*))\s*(#.*)?$"""
)


def read_exports(text: str, shown: str) -> tuple[dict[str, str], list[Reason]]:
    """The literal ``export NAME="value"`` lines of exports.sh; anything computed is a note."""
    values: dict[str, str] = {}
    notes: list[Reason] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _EXPORT.match(line)
        if match is not None:
            values[match.group(1)] = next(g for g in match.group(2, 3, 4) if g is not None)
        elif line.startswith("export "):
            notes.append(
                Reason("I004", f"computed export not converted: {line[:80]}", "note", shown, number)
            )
    return values, notes


def _meta(document_data: object, shown: str, lines: dict[tuple[str | int, ...], int]) -> AppMeta:
    if not isinstance(document_data, dict):
        raise refuse("I001", "umbrel-app.yml is not a mapping of fields", shown, 1)
    data = document_data
    meta = AppMeta(
        file=shown, lines={str(key[0]): line for key, line in lines.items() if len(key) == 1}
    )
    meta.id = text_of(data.get("id"))
    meta.name = text_of(data.get("name"))
    meta.version = text_of(data.get("version"))
    meta.summary = text_of(data.get("tagline"))
    meta.description = text_of(data.get("description"))
    meta.category = text_of(data.get("category"))
    meta.developer = text_of(data.get("developer"))
    meta.website = text_of(data.get("website"))
    meta.repo = text_of(data.get("repo"))
    meta.support = text_of(data.get("support"))
    meta.release_notes = text_of(data.get("releaseNotes"))
    meta.default_username = text_of(data.get("defaultUsername"))
    meta.default_password = text_of(data.get("defaultPassword"))
    meta.deterministic_password = data.get("deterministicPassword") is True
    meta.ui_path = text_of(data.get("path"))
    meta.port = _int(data.get("port"))
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise refuse("I001", "dependencies is a list of app ids", shown, meta.line("dependencies"))
    meta.dependencies = [str(item) for item in dependencies if text_of(item)]
    meta.architectures = ["amd64", "arm64"]
    return meta


def read_umbrel_app(folder: Path, source: str) -> SourceApp:
    """Read one Umbrel app folder; refuse with file:line when it is not one."""
    shown_app = f"{source.rstrip('/')}/{APP_FILE}"
    app_bytes = read_source_file(folder, APP_FILE, shown_app)
    if app_bytes is None:
        raise refuse("I001", f"no {APP_FILE} (is this an Umbrel app folder?)", source)
    app_document = load_yaml(app_bytes, shown_app)
    meta = _meta(app_document.data, shown_app, app_document.lines)
    if meta.id is None:
        raise refuse("I001", "id is missing", shown_app, 1)
    compose_name = next(
        (name for name in COMPOSE_FILES if (folder / name).exists()), COMPOSE_FILES[0]
    )
    shown_compose = f"{source.rstrip('/')}/{compose_name}"
    compose_bytes = read_source_file(folder, compose_name, shown_compose)
    if compose_bytes is None:
        raise refuse("I001", f"no {compose_name} beside {APP_FILE}", source)
    reasons: list[Reason] = []
    own: dict[str, str] = {}
    shown_exports = f"{source.rstrip('/')}/{EXPORTS_FILE}"
    exports = read_source_file(folder, EXPORTS_FILE, shown_exports)
    if exports is not None:
        try:
            own, notes = read_exports(exports.decode("utf-8"), shown_exports)
        except UnicodeDecodeError:
            raise refuse("I001", "not valid UTF-8", shown_exports) from None
        reasons.extend(notes)
    dotenv = read_source_file(folder, ".env", f"{source.rstrip('/')}/.env")
    if dotenv is not None:
        own = {**parse_env_file_text(dotenv.decode("utf-8", "replace")), **own}
    variables = PlatformVariables(platform_variables(_plain_id(meta.id)), own)

    def read_file(relative: str, what: str, line: int | None) -> bytes | None:
        return read_source_file(folder, relative, shown_compose, line)

    project = parse_project(load_yaml(compose_bytes, shown_compose), variables, read_file)
    reasons.extend(project.interpolation_warnings)
    app = SourceApp("umbrel", folder, source, meta, project, variables, None, reasons=reasons)
    app.icon = local_svg_icon(folder)
    for extra, what in (("hooks", "lifecycle hook scripts"), ("torrc.template", "a Tor config")):
        if (folder / extra).exists():
            app.reasons.append(
                Reason(
                    "I004",
                    f"{extra}: {what} not converted; the manifest has hooks of two kinds "
                    "(exec, copy_from_host): port them by hand if the app needs them",
                    "warning",
                    f"{source.rstrip('/')}/{extra}",
                )
            )
    _addresses(app, meta.id)
    app.ui = _ui_from_proxy(app, shown_compose)
    return app


def _plain_id(app_id: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", app_id.lower()).strip("-") or "app"


def _addresses(app: SourceApp, app_id: str) -> None:
    """Names and IPs the source uses for its own containers -> the service they mean."""
    for service in app.project.services:
        for name in (f"{app_id}_{service.name}_1", f"{app_id}-{service.name}-1"):
            app.hostnames[name] = service.name
        networks = service.raw.get("networks")
        if isinstance(networks, dict):
            for network in networks.values():
                if isinstance(network, dict) and isinstance(network.get("ipv4_address"), str):
                    address = network["ipv4_address"].strip()
                    if address:
                        app.hostnames[address] = service.name


def _ui_from_proxy(app: SourceApp, shown: str) -> UiHint | None:
    proxy = app.project.service(PROXY_SERVICE)
    port = app.meta.port
    if proxy is None:
        if port is None:
            return None
        return UiHint(
            None, None, port, app.meta.ui_path or "/", app.meta.file, app.meta.line("port")
        )
    app.dropped_services[PROXY_SERVICE] = (
        "Umbrel's auth proxy; the node's web server serves ui.route instead"
    )
    host = proxy.environment.get("APP_HOST", "").strip()
    target = app.hostnames.get(host, host if app.project.service(host) else None)
    container_port = _int(proxy.environment.get("APP_PORT"))
    line = proxy.environment_lines.get("APP_HOST", proxy.line)
    if target is None or container_port is None:
        raise refuse(
            "I001",
            f"app_proxy: APP_HOST {host!r} / APP_PORT {proxy.environment.get('APP_PORT')!r} "
            "name no service and port of this app",
            shown,
            line,
        )
    if proxy.environment.get("PROXY_AUTH_ADD", "true").strip().lower() != "false":
        app.reasons.append(
            Reason(
                "I004",
                "app_proxy added Umbrel's login in front of the UI; Archipelago's proxy "
                "decides that for every app",
                "note",
                shown,
                proxy.line,
            )
        )
    return UiHint(target, container_port, port, app.meta.ui_path or "/", shown, line)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 65535 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if 1 <= number <= 65535 else None
    return None
