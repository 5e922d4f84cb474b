"""The manifest's vocabulary: field patterns, constrained string types and the strict base model.

Every manifest model derives from ``StrictModel`` (unknown fields are errors, values
are immutable, no type coercion).  The patterns here are the single definition of
what an app id, a container name, a version or an image reference may look like;
the catalog model and the importer reuse them rather than writing their own.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
)

APP_ID_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"


CONTAINER_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"


NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"


ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


DURATION_PATTERN = r"^[1-9][0-9]{0,5}(ms|s|m|h)$"


MEMORY_PATTERN = r"^[1-9][0-9]{0,6}[kmg]$"


VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$"


SPDX_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]*( (AND|OR|WITH) [A-Za-z0-9][A-Za-z0-9.+-]*)*$"


URL_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$"


SETTING_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


# repo[:tag][@sha256:digest]; repo may carry a registry host and port.
IMAGE_PATTERN = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


AppId = Annotated[str, StringConstraints(pattern=APP_ID_PATTERN)]


ContainerName = Annotated[str, StringConstraints(pattern=CONTAINER_NAME_PATTERN)]


Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]


NonEmptyText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


ShortText = Annotated[str, StringConstraints(min_length=1, max_length=160)]


Url = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=2000)]


Argument = Annotated[str, StringConstraints(max_length=4000)]


SettingValue = bool | int | str


Category = Literal[
    "bitcoin",
    "lightning",
    "ecash",
    "nostr",
    "networking",
    "security",
    "media",
    "files",
    "productivity",
    "home",
    "developer",
    "ai",
    "monitoring",
    "communication",
    "system",
]


Architecture = Literal["amd64", "arm64"]


class StrictModel(BaseModel):
    """Base of every manifest model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        populate_by_name=False,
        str_strip_whitespace=False,
    )


def parse_image_reference(reference: str) -> tuple[str, str | None, str | None]:
    """Split ``repo:tag@sha256:…`` into (repo, tag, digest); raise ValueError if malformed."""
    match = IMAGE_PATTERN.fullmatch(reference)
    if match is None:
        raise ValueError(
            f"{reference!r} is not an image reference; write repository:tag "
            "(optionally @sha256:<64 hex digits>)"
        )
    return match.group("repo"), match.group("tag"), match.group("digest")
