"""``images.lock.json``: every ``repo:tag`` the apps use, pinned to the digest a registry served.

``archy images lock`` asks each image's registry (HTTP API v2, the OCI
distribution spec) for the manifest behind the tag, checks that the bytes
hash to the digest the registry claims, and records the digest of the tag
(an image index / manifest list for multi-arch images) and the image
manifest digest of each architecture the catalog supports.  The build reads
the lock from the commit, so what a node pulls is exactly what was locked.

The lock file is canonical JSON (one line, then a newline), so a re-lock that
changes nothing changes no byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.canonical import encode_canonical_json
from catalog.catalog_model import Architecture, ImagePin, Sha256Digest
from catalog.manifest_fields import parse_image_reference

LOCK_SCHEMA_VERSION = 1
MAX_MANIFEST_BYTES = 4 << 20
SUPPORTED_ARCHITECTURES: tuple[Architecture, ...] = ("amd64", "arm64")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))


class RegistryError(Exception):
    """A registry could not be asked, refused, or answered something we cannot trust."""


class RegistryAuthError(RegistryError):
    """The bearer-token flow failed: no token, or the registry refused the one issued.

    Unlike a missing tag, this is about the whole registry, so ``archy images
    lock`` refuses (writes nothing) even without ``--require-digests``.
    """


class RegistryUnreachable(RegistryError):
    """No answer at all from the registry (refused, reset, timed out, unknown host)."""


class LockFileError(Exception):
    """images.lock.json is not a valid lock file."""


class LockedImage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    digest: Sha256Digest = Field(description="digest of the manifest or index the tag named")
    media_type: str
    platforms: dict[Architecture, Sha256Digest] = Field(default_factory=dict)

    def pin(self) -> ImagePin:
        return ImagePin(digest=self.digest, platforms=dict(self.platforms))


class ImageLock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    schema_version: int = Field(default=LOCK_SCHEMA_VERSION, alias="schema")
    images: dict[str, LockedImage] = Field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return encode_canonical_json(self.model_dump(mode="json", by_alias=True)) + b"\n"


def parse_lock(data: bytes, filename: str = "images.lock.json") -> ImageLock:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LockFileError(f"{filename}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("schema") != LOCK_SCHEMA_VERSION:
        raise LockFileError(f"{filename}: expected a lock file with schema {LOCK_SCHEMA_VERSION}")
    try:
        return ImageLock.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise LockFileError(f"{filename}: {where}: {first['msg']}") from None


def read_lock_file(path: Path) -> ImageLock:
    if not path.exists():
        return ImageLock()
    return parse_lock(path.read_bytes(), str(path))


def write_lock_file(path: Path, lock: ImageLock) -> None:
    """Write atomically: a temp file beside the lock, then rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(lock.to_bytes())
    temporary.replace(path)


# --- references -------------------------------------------------------------


@dataclass(frozen=True)
class ImageName:
    """``host[:port]/path:tag[@digest]`` split the way the registry API needs it."""

    host: str
    path: str
    tag: str
    digest: str | None

    @property
    def key(self) -> str:
        """``repo:tag``: how the lock and the catalog name this image."""
        return f"{self.host}/{self.path}:{self.tag}"


def split_reference(reference: str) -> ImageName:
    repository, tag, digest = parse_image_reference(reference)
    if tag is None:
        raise RegistryError(f"{reference}: needs a tag (repository:tag)")
    first, _, rest = repository.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        raise RegistryError(
            f"{reference}: name the registry host in the reference (host/path:tag); "
            "a default registry is never assumed"
        )
    return ImageName(first, rest, tag, digest)


def default_endpoint(host: str) -> str:
    """``https://host``; plain HTTP only for a registry on this machine's loopback."""
    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    scheme = "http" if bare in LOOPBACK_HOSTS else "https"
    return f"{scheme}://{host}"


# --- the registry client ----------------------------------------------------


@dataclass(frozen=True)
class RegistryAnswer:
    status_code: int
    headers: httpx.Headers
    content: bytes


_CHALLENGE_PARAMETER = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class RegistryClient:
    """Reads manifests over the registry HTTP API v2, anonymously or with a pull token.

    ``endpoints`` maps a reference's registry host to the base URL to ask
    (a mirror, or the API host of a registry whose name differs from it).
    """

    endpoints: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 15.0
    http: httpx.Client = field(default_factory=lambda: httpx.Client(follow_redirects=True))
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def close(self) -> None:
        self.http.close()

    def endpoint(self, host: str) -> str:
        return self.endpoints.get(host, default_endpoint(host)).rstrip("/")

    def _get(self, image: ImageName, url: str, accept: str) -> RegistryAnswer:
        """GET with the repository's token; on a 401, fetch a fresh token once and retry."""
        headers = {"Accept": accept}
        token = self._tokens.get((image.host, image.path))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self._send(image, url, headers)
        if response.status_code != 401:
            return response
        challenge = response.headers.get("www-authenticate", "")
        realm, token = self._pull_token(image, challenge)  # none yet, or the cached one expired
        self._tokens[(image.host, image.path)] = token
        headers["Authorization"] = f"Bearer {token}"
        response = self._send(image, url, headers)
        if response.status_code == 401:
            raise RegistryAuthError(
                f"{image.key}: the registry refused the token from {realm} "
                f"({_refusal_reason(response)}); check the token service's signing key, "
                "issuer, audience and clock"
            )
        return response

    def _send(self, image: ImageName, url: str, headers: dict[str, str]) -> RegistryAnswer:
        try:
            with self.http.stream("GET", url, headers=headers, timeout=self.timeout) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_MANIFEST_BYTES:
                        raise RegistryError(
                            f"{image.key}: {url} sent more than {MAX_MANIFEST_BYTES} bytes"
                        )
                return RegistryAnswer(response.status_code, response.headers, bytes(body))
        except httpx.TransportError as error:
            raise RegistryUnreachable(
                f"{image.key}: cannot reach the registry at {self.endpoint(image.host)} "
                f"({type(error).__name__}: {error or 'no answer'})"
            ) from None

    def _pull_token(self, image: ImageName, challenge: str) -> tuple[str, str]:
        """The token flow: the 401's Bearer challenge names a realm that hands out pull tokens."""
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme != "bearer":
            raise RegistryAuthError(
                f"{image.key}: the registry wants {scheme or 'unknown'} authentication; "
                "only anonymous pulls and bearer tokens are supported"
            )
        parameters = dict(_CHALLENGE_PARAMETER.findall(challenge))
        realm = parameters.get("realm")
        if not realm:
            raise RegistryAuthError(f"{image.key}: the registry's bearer challenge names no realm")
        query = {"scope": parameters.get("scope") or f"repository:{image.path}:pull"}
        if parameters.get("service"):
            query["service"] = parameters["service"]
        try:
            response = self.http.get(realm, params=query, timeout=self.timeout)
        except httpx.TransportError as error:
            raise RegistryAuthError(
                f"{image.key}: cannot reach the token service {realm} "
                f"({type(error).__name__}: {error or 'no answer'})"
            ) from None
        if response.status_code != 200:
            raise RegistryAuthError(
                f"{image.key}: the token service {realm} answered {response.status_code}"
            )
        try:
            answer = response.json()
        except ValueError:
            raise RegistryAuthError(
                f"{image.key}: the token service {realm} sent no JSON"
            ) from None
        token = (
            answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        )
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(f"{image.key}: the token service {realm} sent no token")
        return realm, token

    def fetch_manifest(self, image: ImageName, reference: str) -> tuple[str, str, bytes]:
        """(digest, media type, bytes) of the manifest at a tag or digest, hash-checked."""
        url = f"{self.endpoint(image.host)}/v2/{image.path}/manifests/{reference}"
        response = self._get(image, url, MANIFEST_ACCEPT)
        if response.status_code == 404:
            raise RegistryError(f"{image.key}: the registry has no manifest {reference!r}")
        if response.status_code != 200:
            raise RegistryError(f"{image.key}: GET {url} answered {response.status_code}")
        body = response.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        claimed = response.headers.get("docker-content-digest")
        if claimed is not None and claimed != digest:
            raise RegistryError(
                f"{image.key}: the registry says the manifest is {claimed}, but the bytes it "
                f"served hash to {digest}; refusing to lock it"
            )
        if reference.startswith("sha256:") and reference != digest:
            raise RegistryError(
                f"{image.key}: asked for manifest {reference}, the bytes served hash to {digest}"
            )
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        return digest, _media_type(image, body, media_type), body

    def fetch_blob(self, image: ImageName, digest: str) -> bytes:
        url = f"{self.endpoint(image.host)}/v2/{image.path}/blobs/{digest}"
        response = self._get(image, url, "*/*")
        if response.status_code != 200:
            raise RegistryError(f"{image.key}: GET {url} answered {response.status_code}")
        actual = "sha256:" + hashlib.sha256(response.content).hexdigest()
        if actual != digest:
            raise RegistryError(f"{image.key}: blob {digest} served bytes that hash to {actual}")
        return response.content

    def resolve(self, reference: str) -> LockedImage:
        """Resolve ``repo:tag`` (or a pinned ``repo:tag@digest``) to its digests."""
        image = split_reference(reference)
        digest, media_type, body = self.fetch_manifest(image, image.digest or image.tag)
        document = _json_object(image, body)
        if media_type in INDEX_TYPES:
            platforms = self._index_platforms(image, document)
        else:
            platforms = self._image_platform(image, digest, document)
        return LockedImage(digest=digest, media_type=media_type, platforms=platforms)

    def _index_platforms(self, image: ImageName, index: dict[str, Any]) -> dict[Architecture, str]:
        platforms: dict[Architecture, str] = {}
        for entry in index.get("manifests") or []:
            platform = entry.get("platform") or {}
            architecture = platform.get("architecture")
            if platform.get("os") != "linux" or architecture not in SUPPORTED_ARCHITECTURES:
                continue
            if architecture == "arm64" and platform.get("variant") not in (None, "v8"):
                continue
            if architecture in platforms:
                continue
            child_digest = str(entry.get("digest"))
            self.fetch_manifest(image, child_digest)  # checks the bytes hash to the digest
            platforms[architecture] = child_digest
        if not platforms:
            raise RegistryError(
                f"{image.key}: the image index lists no linux/amd64 or linux/arm64 image"
            )
        return platforms

    def _image_platform(
        self, image: ImageName, digest: str, manifest: dict[str, Any]
    ) -> dict[Architecture, str]:
        config = manifest.get("config") or {}
        config_digest = config.get("digest")
        if not isinstance(config_digest, str) or not config_digest.startswith("sha256:"):
            raise RegistryError(f"{image.key}: the image manifest names no sha256 config")
        document = _json_object(image, self.fetch_blob(image, config_digest))
        architecture = document.get("architecture")
        if document.get("os") != "linux" or architecture not in SUPPORTED_ARCHITECTURES:
            raise RegistryError(
                f"{image.key}: the image is {document.get('os')}/{architecture}; "
                "the catalog supports linux/amd64 and linux/arm64"
            )
        return {architecture: digest}


def _refusal_reason(response: RegistryAnswer) -> str:
    """One line from a 401: the challenge's error and the first error message of the body."""
    parts = [f"HTTP {response.status_code}"]
    challenge = dict(_CHALLENGE_PARAMETER.findall(response.headers.get("www-authenticate", "")))
    if challenge.get("error"):
        parts.append(challenge["error"])
    try:
        errors = json.loads(response.content).get("errors") or []
        message = str(errors[0].get("message", "")) if errors else ""
    except (ValueError, AttributeError, TypeError):
        message = ""
    if message:
        parts.append(message)
    return " ".join(", ".join(parts).splitlines())


def _json_object(image: ImageName, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise RegistryError(
            f"{image.key}: the registry served a manifest that is not JSON"
        ) from None
    if not isinstance(document, dict):
        raise RegistryError(f"{image.key}: the registry served a manifest that is not an object")
    return document


def _media_type(image: ImageName, body: bytes, header: str) -> str:
    if header in INDEX_TYPES or header in IMAGE_TYPES:
        return header
    declared = _json_object(image, body).get("mediaType")
    if declared in INDEX_TYPES or declared in IMAGE_TYPES:
        return str(declared)
    raise RegistryError(f"{image.key}: unsupported manifest type {header or declared!r}")


# --- locking ----------------------------------------------------------------


@dataclass
class LockResult:
    lock: ImageLock
    resolved: dict[str, LockedImage] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    auth_failures: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.failures,
            "images": len(self.lock.images),
            "resolved": {key: value.digest for key, value in sorted(self.resolved.items())},
            "failures": dict(sorted(self.failures.items())),
        }


def lockable_reference(reference: str) -> str:
    """The lock key of a manifest's image: ``repo:tag`` without any digest."""
    repository, tag, _ = parse_image_reference(reference)
    return f"{repository}:{tag}"


def lock_images(
    references: Iterable[str],
    client: RegistryClient,
    previous: ImageLock,
    *,
    on_resolved: Callable[[str], None] = lambda _reference: None,
) -> LockResult:
    """Resolve every reference; keep the previous pin of any that fails (the caller decides)."""
    images: dict[str, LockedImage] = {}
    result = LockResult(lock=previous)
    for reference in sorted(set(references)):
        key = lockable_reference(reference)
        try:
            locked = client.resolve(reference)
            images[key] = locked
            result.resolved[key] = locked
        except RegistryError as error:
            result.failures[key] = str(error)
            if isinstance(error, RegistryAuthError):
                result.auth_failures.append(key)
            if isinstance(error, RegistryUnreachable):
                result.unreachable.append(key)
            if key in previous.images:
                images[key] = previous.images[key]
        on_resolved(reference)
    result.lock = ImageLock(images=dict(sorted(images.items())))
    return result
