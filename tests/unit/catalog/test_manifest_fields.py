"""The manifest's vocabulary: image references split into repository, tag and digest, or refused."""

from __future__ import annotations

import pytest

from catalog.loader import parse_manifest
from catalog.manifest_fields import parse_image_reference
from catalog.problems import ManifestError
from tests.support.sample_manifest import VALID_MANIFEST

DIGEST = "sha256:" + "ab" * 32
FILE = "apps/demo-web/manifest.yml"


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("nginx", ("nginx", None, None)),
        ("nginx:1.27", ("nginx", "1.27", None)),
        ("docker.io/library/nginx:1.27.3", ("docker.io/library/nginx", "1.27.3", None)),
        (f"nginx@{DIGEST}", ("nginx", None, DIGEST)),
        (f"nginx:1.27@{DIGEST}", ("nginx", "1.27", DIGEST)),
        ("127.0.0.1:5000/a/b:1.0", ("127.0.0.1:5000/a/b", "1.0", None)),
        ("registry:5000/team__x/app-name:v1_rc", ("registry:5000/team__x/app-name", "v1_rc", None)),
    ],
)
def test_an_image_reference_splits_into_repository_tag_and_digest(
    reference: str, parts: tuple[str, str | None, str | None]
) -> None:
    assert parse_image_reference(reference) == parts


@pytest.mark.parametrize(
    "reference",
    ["", "Nginx:1", "nginx:", "nginx:-x", "nginx@sha256:abc", f"nginx@{DIGEST.upper()}", "a b"],
)
def test_a_malformed_image_reference_is_refused_with_how_to_write_it(reference: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_image_reference(reference)
    assert str(caught.value) == (
        f"{reference!r} is not an image reference; write repository:tag "
        "(optionally @sha256:<64 hex digits>)"
    )


def test_the_user_reads_the_image_refusal_with_its_line() -> None:
    text = VALID_MANIFEST.replace("docker.io/library/nginx:1.27.3", "Nginx:latest")
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text.encode(), FILE, "demo-web")
    assert [str(problem) for problem in caught.value.problems] == [
        f"{FILE}:15: containers[0].image: 'Nginx:latest' is not an image reference; write "
        "repository:tag (optionally @sha256:<64 hex digits>)"
    ]


def test_a_members_image_parts_are_read_from_its_reference() -> None:
    text = VALID_MANIFEST.replace("nginx:1.27.3", f"nginx:1.27.3@{DIGEST}")
    member = parse_manifest(text.encode(), FILE, "demo-web").containers[0]
    assert member.image_repository == "docker.io/library/nginx"
    assert member.image_tag == "1.27.3"
    assert member.image_digest == DIGEST
