"""The marketplace's Nostr event contents (docs/marketplace.md): the one definition both sides read.

A developer announces each app of their registry as a NIP-78 event (kind 30078,
parameterised-replaceable) whose ``d`` tag is :func:`announcement_d_tag` and whose
content is the canonical JSON of an :class:`AppAnnouncement`.  Endorsements,
reports and revocations of a did:key are kind 30078 events too, with their own ``d``
tags and contents.  Follow
lists are NIP-02 (kind 3, ``p`` tags).

Everything here is a claim from an untrusted relay until the node checked it
against the registry's signed metadata; the models only check the form.

Pure: no nostr library, no network.  ``parse_*`` raise :class:`AnnouncementError`
with one line saying which field is wrong.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from catalog.canonical import encode_canonical_json
from catalog.catalog_model import Blake3Hex, DidKeyText
from catalog.manifest_fields import APP_ID_PATTERN, VERSION_PATTERN

APP_DATA_KIND = 30078  # NIP-78: arbitrary custom app data, parameterised-replaceable
FOLLOW_LIST_KIND = 3  # NIP-02
ANNOUNCEMENT_HASHTAG = "archy-app"
ENDORSEMENT_HASHTAG = "archy-endorsement"
REPORT_HASHTAG = "archy-report"
REVOCATION_HASHTAG = "archy-revocation"
MAX_CONTENT_LENGTH = 8192

AppIdText = Annotated[str, StringConstraints(pattern=APP_ID_PATTERN)]
OriginUrl = Annotated[str, StringConstraints(pattern=r"^(https?|file)://[^\s]+$", max_length=1000)]
SignatureHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]


class AnnouncementError(ValueError):
    """An event's content or tags are not what the protocol says; one line, naming the field."""


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RootPin(_Content):
    version: int = Field(ge=1, description="the root version N of metadata/N.root.json")
    blake3: Blake3Hex = Field(description="BLAKE3 of that file's bytes: the root's fingerprint")


class AppAnnouncement(_Content):
    type: Literal["archy-app-announcement/1"] = "archy-app-announcement/1"
    registry: AppIdText = Field(description="the registry's name, chosen by its developer")
    app: AppIdText
    version: Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
    revision: int = Field(ge=0)
    origins: list[OriginUrl] = Field(min_length=1, max_length=8)
    root: RootPin
    catalog_blake3: Blake3Hex
    did: DidKeyText
    binding: SignatureHex = Field(description="the did:key's signature of the binding statement")

    def d_tag(self) -> str:
        return announcement_d_tag(self.registry, self.app)

    def content(self) -> str:
        return encode_canonical_json(self.model_dump(mode="json")).decode()


class Endorsement(_Content):
    type: Literal["archy-endorsement/1"] = "archy-endorsement/1"
    did: DidKeyText
    app: AppIdText

    def d_tag(self) -> str:
        return f"{ENDORSEMENT_HASHTAG}:{self.did}/{self.app}"

    def content(self) -> str:
        return encode_canonical_json(self.model_dump(mode="json")).decode()


class Report(_Content):
    type: Literal["archy-report/1"] = "archy-report/1"
    did: DidKeyText
    app: AppIdText
    reason: Annotated[str, StringConstraints(max_length=500)]

    def d_tag(self) -> str:
        return f"{REPORT_HASHTAG}:{self.did}/{self.app}"

    def content(self) -> str:
        return encode_canonical_json(self.model_dump(mode="json")).decode()


class Revocation(_Content):
    """A did:key revoked by itself: ``signature`` is the did:key's signature of
    :func:`signing.developer.revocation_statement` (did, reason).  Any Nostr key may carry it."""

    type: Literal["archy-revocation/1"] = "archy-revocation/1"
    did: DidKeyText
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    signature: SignatureHex

    def d_tag(self) -> str:
        return f"{REVOCATION_HASHTAG}:{self.did}"

    def content(self) -> str:
        return encode_canonical_json(self.model_dump(mode="json")).decode()


def announcement_d_tag(registry: str, app: str) -> str:
    return f"{ANNOUNCEMENT_HASHTAG}:{registry}/{app}"


Model = TypeVar("Model", bound=_Content)


def _parse(model: type[Model], content: str) -> Model:
    if len(content) > MAX_CONTENT_LENGTH:
        raise AnnouncementError(f"content is longer than {MAX_CONTENT_LENGTH} characters")
    try:
        document: Any = json.loads(content)
    except json.JSONDecodeError as error:
        raise AnnouncementError(f"content is not JSON ({error.msg})") from None
    if not isinstance(document, dict):
        raise AnnouncementError("content is not a JSON object")
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(content)"
        raise AnnouncementError(f"{where}: {first['msg']}") from None


def parse_announcement(content: str) -> AppAnnouncement:
    return _parse(AppAnnouncement, content)


def parse_endorsement(content: str) -> Endorsement:
    return _parse(Endorsement, content)


def parse_report(content: str) -> Report:
    return _parse(Report, content)


def parse_revocation(content: str) -> Revocation:
    return _parse(Revocation, content)
