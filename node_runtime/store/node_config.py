"""The node config (``<state root>/config.json``) and ``archy-node init``.

The config says where the registry is (the origin, and optional seeds that
mirror its blobs) and where app data lives.  The state root itself is found
from ``--state-root``, else ``$ARCHY_NODE_STATE_ROOT``, else
``/var/lib/archy-node/``.

``initialise_node`` refuses before writing anything: the root must be TUF
root metadata signed by a threshold of its own root keys, the origin and
seeds must be URLs the node can read, the data root an absolute path.  It
never replaces the trust of an initialised node unless told to (``force``),
and it never touches installed apps, applied state or blobs.

Public API: ``DEFAULT_STATE_ROOT``, ``DEFAULT_DATA_ROOT``, ``STATE_ROOT_ENV``,
``resolve_state_root(option)``, ``NodeConfig``, ``load_config(paths)``,
``initialise_node(paths, root_bytes, origin, seeds=(), data_root=…,
s3_endpoint=None, force=False) -> NodeConfig``, ``NodeConfigError``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.locations import origin_base_url, parse_iroh_seed_url
from catalog.refusal import Refused
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.paths import NodePaths
from signing.errors import TufError
from signing.trusted_set import TrustedSet

DEFAULT_STATE_ROOT = Path("/var/lib/archy-node")
DEFAULT_DATA_ROOT = Path("/var/lib/archipelago")
STATE_ROOT_ENV = "ARCHY_NODE_STATE_ROOT"


class NodeConfigError(Refused):
    """The node config is missing or invalid, or ``init`` was refused; one line says why."""


def resolve_state_root(option: Path | None) -> Path:
    """The state root: the option, else ``$ARCHY_NODE_STATE_ROOT``, else the default."""
    if option is not None:
        return option
    from_env = os.environ.get(STATE_ROOT_ENV)
    return Path(from_env) if from_env else DEFAULT_STATE_ROOT


class NodeConfig(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schema")
    origin: str = Field(description="file://DIR, http(s)://… or s3://BUCKET/PREFIX")
    s3_endpoint: str | None = Field(default=None, description="endpoint for an s3:// origin")
    seeds: list[str] = Field(
        default_factory=list,
        description="swarm seeds (http(s)://, iroh://) and mirrors of targets/ (file://, http)",
    )
    data_root: str = Field(default=str(DEFAULT_DATA_ROOT), description="apps' data directories")
    engine: str = Field(default="auto", description="the engine commands use unless told")
    unit_dir: str | None = Field(
        default=None,
        description="where Quadlet/stage units go (default: stage under the state root)",
    )
    hook_sources: list[str] = Field(
        default_factory=list,
        description="host dirs copy_from_host hooks may read: the last --hook-source-dir "
        "a command was given (absolute)",
    )


def load_config(paths: NodePaths) -> NodeConfig:
    try:
        data = paths.config_file.read_bytes()
    except FileNotFoundError:
        raise NodeConfigError(
            f"{paths.config_file}: this node is not initialised; run `archy-node init "
            "--root ROOT.json --origin URL` (or pass the right --state-root)"
        ) from None
    except OSError as error:
        raise NodeConfigError(f"{paths.config_file}: cannot read ({error.strerror})") from None
    try:
        return NodeConfig.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise NodeConfigError(f"{paths.config_file}: {where}: {first['msg']}") from None


def _write_config(paths: NodePaths, config: NodeConfig) -> None:
    document = config.model_dump(mode="json", by_alias=True)
    write_file_atomically(
        paths.config_file, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    )


def hook_sources_for(
    paths: NodePaths, given: Sequence[str | os.PathLike[str]], *, remember: bool = True
) -> tuple[str, ...]:
    """The host dirs ``copy_from_host`` may read for this command.

    ``given`` (``--hook-source-dir``, made absolute) when there are any, and with
    ``remember`` they replace the ones the config holds (written only when they
    differ), so a later apply, the daemon and the units' hooks use them without the
    option; else the config's.
    """
    config = load_config(paths)
    if not given:
        return tuple(config.hook_sources)
    chosen = [os.path.abspath(source) for source in given]
    if remember and chosen != config.hook_sources:
        try:
            _write_config(paths, config.model_copy(update={"hook_sources": chosen}))
        except OSError as error:
            raise NodeConfigError(f"{paths.config_file}: cannot write ({error.strerror})") from None
    return tuple(chosen)


def _check_origin(origin: str, s3_endpoint: str | None) -> None:
    try:
        origin_base_url(origin, s3_endpoint)
    except ValueError as error:
        raise NodeConfigError(str(error)) from None


def _check_seed(seed: str) -> None:
    scheme = urlsplit(seed).scheme
    if scheme == "iroh":
        try:
            _endpoint_id, addresses = parse_iroh_seed_url(seed)
        except ValueError as error:
            raise NodeConfigError(str(error)) from None
        if not addresses:
            raise NodeConfigError(
                f"seed {seed!r}: name at least one address (iroh://<endpoint id>@<host:port>)"
            )
        return
    if scheme not in ("http", "https", "file"):
        raise NodeConfigError(
            f"seed {seed!r}: use an http(s):// seed or mirror of targets/, a file:// mirror, "
            "or iroh://<endpoint id>@<host:port>"
        )


def _check_root(root_bytes: bytes, where: str) -> None:
    try:
        TrustedSet(root_bytes)
    except TufError as error:
        raise NodeConfigError(
            f"{where}: not a trustworthy root ({error}); use the root.json the registry's "
            "maintainers published"
        ) from None


def absolute_location(location: str) -> str:
    """A plain path becomes an absolute ``file://`` URL; URLs are kept as given.

    The config is read later from other working directories, so nothing relative is stored.
    """
    if urlsplit(location).scheme:
        return location
    return Path(os.path.abspath(location)).as_uri()


def initialise_node(
    paths: NodePaths,
    root_bytes: bytes,
    origin: str,
    seeds: Sequence[str] = (),
    data_root: Path = DEFAULT_DATA_ROOT,
    s3_endpoint: str | None = None,
    force: bool = False,
    root_source: str = "root",
    engine: str = "auto",
    unit_dir: Path | None = None,
) -> NodeConfig:
    """Write the config and the trusted root; refuse (writing nothing) if any input is bad."""
    _check_root(root_bytes, root_source)
    _check_origin(origin, s3_endpoint)
    origin = absolute_location(origin)
    seeds = [absolute_location(seed) for seed in seeds]
    for seed in seeds:
        _check_seed(seed)
    data_root = Path(os.path.abspath(data_root))
    if paths.config_file.exists() and not force:
        raise NodeConfigError(
            f"{paths.root} is already initialised; pass --force to replace its config and "
            "trusted root (installed apps, applied state and data are kept)"
        )
    config = NodeConfig(
        origin=origin,
        s3_endpoint=s3_endpoint,
        seeds=list(seeds),
        data_root=str(data_root),
        engine=engine,
        unit_dir=None if unit_dir is None else os.path.abspath(unit_dir),
    )
    try:
        for directory in (paths.root, paths.trust_dir, paths.blobs_dir, paths.state_dir):
            directory.mkdir(parents=True, exist_ok=True)
        previous_root = (
            paths.trusted_root_file.read_bytes() if paths.trusted_root_file.exists() else None
        )
        if previous_root != root_bytes:
            # Metadata trusted under another root means nothing under this one.
            write_file_atomically(paths.trusted_root_file, root_bytes)
            for cached in paths.trust_dir.glob("*.json"):
                if cached != paths.trusted_root_file:
                    cached.unlink()
        _write_config(paths, config)
    except OSError as error:
        raise NodeConfigError(f"{paths.root}: cannot write ({error.strerror})") from None
    return config
