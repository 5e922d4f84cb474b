"""``app-catalog.json``, schema 1: what CI publishes and every node applies.

One canonical-JSON document holds, per app, the version and revision, the
full embedded manifest and its BLAKE3, the rendered Quadlet units, the image
references with their digests, and the targets (icon, companion image
archives) the node fetches by BLAKE3.  It also names the git commit it was
built from and the node binary's targets.  The same commit always gives the
same bytes: nothing in here comes from the clock or the machine.

Pure: :func:`parse_catalog` takes bytes and returns a checked model or raises
:class:`CatalogError`; :meth:`AppCatalog.to_canonical` gives the bytes back.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.manifest import Manifest
from catalog.manifest_fields import APP_ID_PATTERN, CONTAINER_NAME_PATTERN, VERSION_PATTERN

CATALOG_SCHEMA_VERSION: Literal[1] = 1
CATALOG_NAME = "app-catalog.json"

Blake3Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Sha256Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
ImageId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
GitCommit = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")]
UtcTimestamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
AppId = Annotated[str, StringConstraints(pattern=APP_ID_PATTERN)]
MemberName = Annotated[str, StringConstraints(pattern=CONTAINER_NAME_PATTERN)]
# A path relative to the repository's targets/ directory, hash-prefixed as
# consistent snapshots name them: icons/<blake3>.<id>.svg.
TargetPath = Annotated[
    str,
    StringConstraints(pattern=r"^([a-z]+/)?[0-9a-f]{64}\.[A-Za-z0-9][A-Za-z0-9._-]{0,200}$"),
]
UnitName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9@._-]{0,200}(\.d/[A-Za-z0-9._-]+)?$")
]
# A swarm seed that serves the catalog's blobs by BLAKE3 (docs/seed-protocol.md).
SeedUrl = Annotated[
    str,
    StringConstraints(pattern=r"^(https?|iroh)://[^\s/@]+(@[^\s]+)?(/[^\s]*)?$", max_length=1000),
]
_SEED_URL: TypeAdapter[str] = TypeAdapter(SeedUrl)
Platform = Literal["linux-amd64", "linux-arm64"]
Architecture = Literal["amd64", "arm64"]


class CatalogError(ValueError):
    """The bytes are not a valid app catalog; the message says where and why, on one line."""


class CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=False)


class TargetFile(CatalogModel):
    """One immutable file the node fetches from the repository and checks by BLAKE3."""

    target: TargetPath = Field(description="path under targets/, e.g. icons/<blake3>.<id>.svg")
    blake3: Blake3Hex
    length: int = Field(ge=0)

    @model_validator(mode="after")
    def path_names_its_hash(self) -> TargetFile:
        name = self.target.rsplit("/", 1)[-1]
        if not name.startswith(self.blake3 + "."):
            raise ValueError(f"target {self.target!r} does not start with its blake3 {self.blake3}")
        return self

    @property
    def name(self) -> str:
        """The TUF target name: the path without its hash prefix (icons/<id>.svg)."""
        directory, _, file_name = self.target.rpartition("/")
        plain = file_name.split(".", 1)[1]
        return f"{directory}/{plain}" if directory else plain


class SourceInfo(CatalogModel):
    repository: str | None = Field(description="where the apps come from (the origin URL)")
    commit: GitCommit
    committed_at: UtcTimestamp = Field(description="the commit's committer time, UTC")
    dirty: bool = Field(description="work-tree changes under apps/ were built (only in dev builds)")


class ImagePin(CatalogModel):
    """What a ``repo:tag`` resolved to: the digest to pull and the per-architecture digests."""

    digest: Sha256Digest | None = Field(
        description="manifest or image index digest; null when the image was not locked"
    )
    platforms: dict[Architecture, Sha256Digest] = Field(
        default_factory=dict, description="the image manifest digest for each architecture"
    )


class AppImage(CatalogModel):
    member: MemberName
    reference: Annotated[str, StringConstraints(max_length=500)] = Field(
        description="repository:tag as the manifest names it, without a digest"
    )
    digest: Sha256Digest | None
    platforms: dict[Architecture, Sha256Digest] = Field(default_factory=dict)
    companion: bool = Field(default=False, description="built by CI from the app's build context")

    @property
    def pinned_reference(self) -> str:
        return self.reference if self.digest is None else f"{self.reference}@{self.digest}"


class Companion(CatalogModel):
    """A companion image built from ``apps/<id>/<build.context>`` and shipped as a target."""

    member: MemberName
    image: Annotated[str, StringConstraints(max_length=500)]
    context_blake3: Blake3Hex
    image_id: ImageId | None = Field(description="podman's image id; null for a :local override")
    archive: TargetFile | None = Field(description="the OCI archive; null for a :local override")
    local_override: bool = Field(
        default=False, description="tagged :local: a manual override, never rebuilt by CI"
    )

    @model_validator(mode="after")
    def built_or_overridden(self) -> Companion:
        built = self.image_id is not None and self.archive is not None
        if built == self.local_override:
            raise ValueError(
                "a companion is either built (image_id and archive) or a :local override"
            )
        return self


DidKeyText = Annotated[
    str, StringConstraints(pattern=r"^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44,45}$", max_length=100)
]


class DeveloperSignature(CatalogModel):
    """A third-party developer's signature over the app's manifest (docs/marketplace.md).

    The model checks the form; :func:`signing.developer.verify_developer_signature`
    checks the signature itself (catalog/ imports nothing from signing/)."""

    did: DidKeyText = Field(description="the developer's Ed25519 did:key (did:key:z6Mk...)")
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")] = Field(
        description="Ed25519 signature (hex) over the developer-manifest message"
    )


class CatalogApp(CatalogModel):
    version: Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
    revision: int = Field(ge=0)
    manifest: Manifest
    manifest_blake3: Blake3Hex = Field(description="BLAKE3 of the manifest's canonical JSON")
    units: dict[UnitName, str] = Field(description="rendered Quadlet units, file name -> text")
    images: list[AppImage]
    icon: TargetFile | None
    companions: list[Companion] = Field(default_factory=list)
    developer: DeveloperSignature | None = Field(
        default=None,
        description="third-party apps: the developer's did:key signature over the manifest; "
        "absent for official apps",
    )

    @model_validator(mode="after")
    def agrees_with_its_manifest(self) -> CatalogApp:
        if (self.version, self.revision) != (self.manifest.version, self.manifest.revision):
            raise ValueError(
                f"version {self.version}-r{self.revision} differs from the manifest's "
                f"{self.manifest.version}-r{self.manifest.revision}"
            )
        actual = manifest_blake3(self.manifest)
        if actual != self.manifest_blake3:
            raise ValueError(
                f"manifest_blake3 is {self.manifest_blake3}, the manifest's is {actual}"
            )
        return self

    @model_serializer(mode="wrap")
    def without_absent_developer(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Official apps have no ``developer`` key at all: their entries keep the bytes
        they always had (and an entry encodes back to the bytes it was parsed from)."""
        document = handler(self)
        if isinstance(document, dict) and document.get("developer", 0) is None:
            del document["developer"]
        return document

    def pinned_manifest(self) -> Manifest:
        """The manifest with each member's image at the digest the catalog pinned: what a
        node runs (and what the dev flow asks podman for)."""
        pinned = {image.member: image.pinned_reference for image in self.images}
        members = [
            member.model_copy(update={"image": pinned.get(member.name, member.image)})
            for member in self.manifest.containers
        ]
        return self.manifest.model_copy(update={"containers": members})


class AppCatalog(CatalogModel):
    """The whole catalog; :func:`parse_catalog` reads it, :meth:`to_canonical` writes it."""

    model_config = ConfigDict(title="Archipelago app catalog (schema 1)", populate_by_name=True)

    schema_version: Literal[1] = Field(alias="schema")
    source: SourceInfo
    dev_build: bool = Field(description="built with --dev: never publish to production")
    apps: dict[AppId, CatalogApp]
    images: dict[Annotated[str, StringConstraints(max_length=500)], ImagePin] = Field(
        description="every image reference the apps use and what it is pinned to"
    )
    node: dict[Platform, TargetFile] | None = Field(
        description="the archy-node binary for each platform, when this build ships one"
    )
    seeds: list[SeedUrl] = Field(
        default_factory=list,
        description="swarm seeds (http(s):// or iroh://) that serve this catalog's blobs; "
        "trusted only as far as the signed catalog is, and every blob is still hash-checked",
    )

    @model_validator(mode="after")
    def keys_match_ids(self) -> AppCatalog:
        for app_id, app in self.apps.items():
            if app.manifest.id != app_id:
                raise ValueError(f"apps.{app_id} holds the manifest of {app.manifest.id!r}")
        return self

    def to_document(self) -> dict[str, Any]:
        document = self.model_dump(mode="json", by_alias=True)
        if not self.seeds:
            del document["seeds"]  # catalogs without seeds keep the bytes they always had
        return document

    def to_canonical(self) -> bytes:
        return encode_canonical_json(self.to_document())

    def targets(self) -> list[TargetFile]:
        """Every file this catalog refers to (icons, companion archives, node binaries)."""
        files: list[TargetFile] = []
        for app in self.apps.values():
            if app.icon is not None:
                files.append(app.icon)
            files.extend(c.archive for c in app.companions if c.archive is not None)
        if self.node is not None:
            files.extend(self.node.values())
        return sorted(files, key=lambda each: each.target)


def seed_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a catalog seed, or None when it can."""
    try:
        _SEED_URL.validate_python(url)
    except ValidationError:
        return (
            f"seed {url[:80]!r}: use http(s)://HOST[:PORT][/PATH] or "
            "iroh://<endpoint id>@<host:port>,… (no spaces)"
        )
    return None


def manifest_canonical(manifest: Manifest) -> bytes:
    """The manifest's canonical JSON: the bytes its BLAKE3 and the catalog's embedding cover."""
    return encode_canonical_json(manifest.to_document())


def manifest_blake3(manifest: Manifest) -> str:
    return blake3_hex(manifest_canonical(manifest))


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CatalogError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_float(text: str) -> Any:
    raise CatalogError(f"number {text} is not an integer; canonical JSON has no floats")


def _refuse_constant(text: str) -> Any:
    raise CatalogError(f"{text} is not JSON")


def _location(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text or "(top level)"


def parse_catalog(data: bytes) -> AppCatalog:
    """Parse and check catalog bytes; raise :class:`CatalogError` with a one-line reason."""
    try:
        document = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_refuse_duplicate_keys,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError as error:
        raise CatalogError(f"catalog is not UTF-8: {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise CatalogError(f"catalog is not JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(document, dict):
        raise CatalogError("catalog is not a JSON object")
    if document.get("schema") != CATALOG_SCHEMA_VERSION:
        raise CatalogError(
            f"catalog schema is {document.get('schema')!r}; this tool reads schema "
            f"{CATALOG_SCHEMA_VERSION}"
        )
    try:
        return AppCatalog.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise CatalogError(f"{_location(tuple(first['loc']))}: {first['msg']}{more}") from None
