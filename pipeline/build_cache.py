"""The build cache: per-app results that depend only on bytes, keyed by those bytes and the code.

A key is BLAKE3 of the code fingerprint (the source of ``catalog/`` and ``pipeline/``
plus the parser and template library versions), the kind of entry and the input
bytes, so an entry is a pure function of its key.  Entries are written atomically,
read back only when they name their own key, and anything that does not read back
cleanly is a miss; errors are never cached.  Caches parsed manifests, rendered units
each catalog entry's parses-back verdict, and the per-app policy rules' warnings for
manifests they found no error in.

Every entry also carries a keyed BLAKE3 MAC over its key and value, made with a
secret that lives outside the cache (``$XDG_CONFIG_HOME/archipelago/build-cache.key``,
0600, created on first use).  A cache folder restored from somewhere else (a shared
CI cache, another user's clone) or edited by hand cannot feed the build a value it
did not compute: an entry whose MAC does not check is a miss like a corrupt one.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import blake3

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_model import (
    AppCatalog,
    AppImage,
    CatalogApp,
    manifest_canonical,
)
from catalog.loader import ManifestSource, parse_manifest_source
from catalog.manifest import Manifest
from catalog.problems import Problem
from catalog.runtime_names import DEFAULT_DATA_ROOT, NETWORK_NAME
from pipeline.atomic_file import write_file_atomically

T = TypeVar("T")


CACHE_DIR_NAME = ".cache/build"


CACHE_FORMAT = 2

SECRET_BYTES = 32


def default_secret_file() -> Path:
    """Where the MAC secret of the build cache lives: the user's config, not the cache."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "archipelago" / "build-cache.key"


def load_secret(path: Path) -> bytes:
    """The cache's MAC secret, created (0600, random) when missing or not 32 bytes."""
    with suppress(OSError):
        secret = path.read_bytes()
        if len(secret) == SECRET_BYTES:
            return secret
    secret = os.urandom(SECRET_BYTES)
    with suppress(OSError):  # a secret that cannot be kept only makes the next build cold
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file_atomically(path, secret, mode=0o600)
    return secret


def entry_mac(secret: bytes, key: str, value_json: bytes) -> str:
    """Keyed BLAKE3 over an entry's key and its value's JSON bytes."""
    return str(blake3.blake3(key.encode() + b"\0" + value_json, key=secret).hexdigest())


@cache
def code_fingerprint() -> str:
    """BLAKE3 over the code that turns manifest bytes into models and units.

    Part of every cache key, so a cache entry written by other code (or other
    pydantic, ruamel.yaml, PyYAML or jinja2 versions) is never read.
    """
    roots = [Path(__file__).resolve().parents[1] / name for name in ("catalog", "pipeline")]
    parts = [f"format {CACHE_FORMAT}".encode()]
    for package in ("pydantic", "pydantic-core", "ruamel.yaml", "PyYAML", "jinja2"):
        try:
            parts.append(f"{package} {metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            parts.append(f"{package} none".encode())
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                parts.append(str(path.relative_to(root.parent)).encode())
                parts.append(blake3_hex(path.read_bytes()).encode())
    return blake3_hex(b"\0".join(parts))


def cache_key(kind: str, *parts: bytes) -> str:
    """The key of an entry: BLAKE3 of the code fingerprint, the kind and the input bytes."""
    framed = [code_fingerprint().encode(), kind.encode()]
    for part in parts:
        framed.append(str(len(part)).encode())
        framed.append(part)
    return blake3_hex(b"\0".join(framed))


@dataclass
class BuildCache:
    """Per-app results that depend only on bytes, as ``<dir>/<kind>/<key>.json``.

    A file is one line ``<key> <MAC>`` and the value's JSON after it.

    An entry is a pure function of its key (see :func:`cache_key`): written
    atomically, read back only when it names its own key, and anything that
    does not read back cleanly is ignored and rebuilt.  Errors are never cached.
    """

    directory: Path
    secret_file: Path | None = None
    hits: int = 0
    misses: int = 0
    _secret: bytes = field(default=b"", repr=False)

    @property
    def secret(self) -> bytes:
        if not self._secret:
            self._secret = load_secret(self.secret_file or default_secret_file())
        return self._secret

    def _path(self, kind: str, key: str) -> str:
        # a text path, not pathlib: thousands of lookups per build, and each join is not free
        return os.path.join(self.directory, kind, key + ".json")

    def get(self, kind: str, key: str, decode: Callable[[Any], T]) -> T | None:
        """The entry's value as ``decode`` returns it; None (a miss) if anything is off."""
        try:
            with open(self._path(kind, key), "rb") as stream:
                header, value_json = stream.read().split(b"\n", 1)
            named, mac = header.decode().split(" ")
            if named != key:
                raise ValueError("the entry names another key")
            if not hmac.compare_digest(mac, entry_mac(self.secret, key, value_json)):
                raise ValueError("the entry's MAC does not check")
            value = decode(json.loads(value_json))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        with suppress(OSError):  # a cache that cannot be written only slows the next build
            value_json = json.dumps(value).encode()
            mac = entry_mac(self.secret, key, value_json)
            entry = f"{key} {mac}\n".encode() + value_json
            # not fsynced: an entry cut short by a power loss does not parse or name its key,
            # so it is a miss like any other
            write_file_atomically(Path(self._path(kind, key)), entry, mode=0o644, durable=False)


@dataclass
class CanonicalBytes:
    """Each manifest's canonical JSON, computed once per build (pure Python, not cheap)."""

    _bytes: dict[int, tuple[Manifest, bytes, str]] = field(default_factory=dict)
    _round_tripped: set[int] = field(default_factory=set)
    _read_as: dict[int, tuple[Manifest, str, str]] = field(default_factory=dict)

    def remember_read(self, source: ManifestSource, key: str) -> None:
        """``source`` was parsed from the bytes its manifest cache ``key`` names."""
        self._read_as[id(source.manifest)] = (source.manifest, source.filename, key)

    def read_key(self, source: ManifestSource) -> str | None:
        """The manifest cache key ``source`` was read under; None if not read that way.

        The key names the file, the app id and the file's bytes, so everything
        parsed from them (the model, its canonical bytes, the line map) is
        known by it.
        """
        known = self._read_as.get(id(source.manifest))
        if known is None or known[1] != source.filename:
            return None
        return known[2]

    def remember(self, manifest: Manifest, canonical: bytes, *, round_tripped: bool) -> None:
        self._bytes[id(manifest)] = (manifest, canonical, blake3_hex(canonical))
        if round_tripped:
            self._round_tripped.add(id(manifest))

    def of(self, manifest: Manifest) -> bytes:
        if id(manifest) not in self._bytes:
            self.remember(manifest, manifest_canonical(manifest), round_tripped=False)
        return self._bytes[id(manifest)][1]

    def blake3(self, manifest: Manifest) -> str:
        self.of(manifest)
        return self._bytes[id(manifest)][2]

    def round_tripped(self, manifest: Manifest) -> bool:
        """True when the manifest was itself parsed from its canonical bytes (a cache hit)."""
        return id(manifest) in self._round_tripped


def manifest_from_cache(
    cache: BuildCache | None,
    read: Callable[[], bytes],
    filename: str,
    app_id: str,
    canon: CanonicalBytes,
    blob_id: str | None = None,
) -> ManifestSource:
    """``parse_manifest_source``, cached on the manifest's git blob id (or its bytes).

    With a blob id the bytes are not read at all on a hit: the id names them.
    An entry is written only for a manifest whose canonical bytes parse back to
    themselves, so a hit (its MAC checked) is a round-tripped manifest.
    """
    if cache is None:
        return parse_manifest_source(read(), filename, app_id)
    if blob_id is not None:
        key = cache_key("manifest-blob", filename.encode(), app_id.encode(), blob_id.encode())
        data = None
    else:
        data = read()
        key = cache_key("manifest", filename.encode(), app_id.encode(), data)

    def decode(value: Any) -> ManifestSource:
        canonical = value["manifest"].encode()
        manifest = Manifest.model_validate_json(canonical)  # written only if it gives `again`
        lines = dict(zip(map(tuple, value["at"]), value["line"], strict=True))
        canon.remember(manifest, canonical, round_tripped=True)  # checked when it was written
        return ManifestSource(manifest, filename, lines)

    cached = cache.get("manifests", key, decode)
    if cached is not None:
        canon.remember_read(cached, key)
        return cached
    source = parse_manifest_source(read() if data is None else data, filename, app_id)
    canonical = canon.of(source.manifest)
    with suppress(ValueError):
        again = Manifest.model_validate(json.loads(canonical))
        # pydantic's JSON parser (what a hit uses: no Python objects in between) must give
        # the very model the Python one gives, field for field
        if manifest_canonical(again) == canonical and (
            Manifest.model_validate_json(canonical) == again
        ):
            # the build's round-trip guard asks exactly this: not asked twice
            canon.remember(source.manifest, canonical, round_tripped=True)
            canon.remember_read(source, key)
            cache.put(
                "manifests",
                key,
                {
                    "manifest": canonical.decode(),
                    "at": [list(location) for location in source.lines],
                    "line": list(source.lines.values()),
                },
            )
    return source


def decode_warnings(value: Any) -> list[Problem]:
    problems = [Problem(**item) for item in value]
    if any(problem.severity == "error" for problem in problems):
        raise ValueError("errors are never cached")
    return problems


@dataclass
class PolicyVerdicts:
    """``pipeline.policy.AppVerdicts`` in the build cache: the per-app rules' warnings for a
    manifest they found no error in, keyed by its file name, canonical bytes and line map
    (what a problem names), and whether digests were required."""

    cache: BuildCache
    canon: CanonicalBytes
    # the per-app rules' warnings (no digests required) by the manifest's cache key: given
    # by app records (``pipeline.app_records``) before the checks, and every verdict this
    # build reached, for the records it writes
    given: dict[str, list[Problem]] = field(default_factory=dict)
    reached: dict[str, list[Problem]] = field(default_factory=dict)

    def _key(self, app: ManifestSource, require_digests: bool) -> str:
        read_as = self.canon.read_key(app)
        if read_as is not None:  # names the bytes the model and its lines were parsed from
            return cache_key("policy-of-read", read_as.encode(), str(require_digests).encode())
        lines = repr(tuple(app.lines.items()))  # tuples of str, int: a stable, C-fast text
        return cache_key(
            "policy",
            app.filename.encode(),
            self.canon.of(app.manifest),
            lines.encode(),
            str(require_digests).encode(),
        )

    def known(self, app: ManifestSource, require_digests: bool) -> list[Problem] | None:
        read_as = self.canon.read_key(app)
        if read_as is not None and not require_digests and read_as in self.given:
            found: list[Problem] | None = self.given[read_as]
        else:
            found = self.cache.get("policy", self._key(app, require_digests), decode_warnings)
        if found is not None and read_as is not None and not require_digests:
            self.reached[read_as] = found
        return found

    def record(self, app: ManifestSource, require_digests: bool, found: list[Problem]) -> None:
        value = [problem.as_json() for problem in found]
        self.cache.put("policy", self._key(app, require_digests), value)
        read_as = self.canon.read_key(app)
        if read_as is not None and not require_digests:
            self.reached[read_as] = found


def decode_units(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and isinstance(text, str) for name, text in value.items()
    ):
        raise ValueError("cached units are not a mapping of file names to texts")
    return value


def units_key(
    canon: CanonicalBytes,
    source: ManifestSource,
    images: list[AppImage],
    network: str = NETWORK_NAME,
) -> str:
    """Rendered units depend on the manifest, the data root, the pinned images and the
    registry's network only."""
    pins = json.dumps(sorted((image.member, image.pinned_reference) for image in images))
    parts = [canon.of(source.manifest), DEFAULT_DATA_ROOT.encode(), pins.encode()]
    if network != NETWORK_NAME:  # the official registry's keys stay what they were
        parts.append(network.encode())
    return cache_key("units", *parts)


def _verdict(value: Any) -> bool:
    if value is not True:
        raise ValueError("not a parses-back verdict")
    return True


def entry_parses_back(app_id: str, entry: Any) -> bool:
    try:
        app = CatalogApp.model_validate(entry)
    except ValueError:
        return False
    dumped = app.model_dump(mode="json", by_alias=True)
    return app.manifest.id == app_id and encode_canonical_json(dumped) == encode_canonical_json(
        entry
    )


def parses_back(catalog_bytes: bytes, cache: BuildCache | None = None) -> bool:
    """True when the catalog parses (every model check) and encodes back to the same bytes.

    The same as ``parse_catalog(catalog_bytes).to_canonical() == catalog_bytes``
    for bytes this build encoded, one app entry at a time: an entry's verdict
    is cached under the entry's JSON (``json.dumps``, a cheap injective
    fingerprint of the parsed value) and the code fingerprint, so an unchanged
    app is not validated and re-encoded again.
    """
    try:
        document = json.loads(catalog_bytes)
    except ValueError:
        return False
    if not isinstance(document, dict) or not isinstance(document.get("apps"), dict):
        return False
    apps: dict[str, Any] = document["apps"]
    skeleton = {**document, "apps": {}}
    try:
        top = AppCatalog.model_validate(skeleton).to_document()
    except ValueError:
        return False
    if encode_canonical_json(top) != encode_canonical_json(skeleton):
        return False
    for app_id, entry in apps.items():
        fingerprint = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        key = cache_key("parses-back", app_id.encode(), fingerprint.encode())
        if cache is not None and cache.get("parses-back", key, _verdict):
            continue
        if not entry_parses_back(app_id, entry):
            return False
        if cache is not None:
            cache.put("parses-back", key, True)
    return True
