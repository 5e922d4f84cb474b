"""The one publish order (pipeline.publish.layout), as every publisher uses it."""

from __future__ import annotations

import random

from pipeline.publish.layout import (
    MARKER_PATH,
    TIMESTAMP_PATH,
    is_mutable,
    is_plain_relative,
    publish_order,
)

IN_ORDER = [
    MARKER_PATH,
    "targets/0a.app-catalog.json",
    "targets/icons/1b.notes.svg",
    "metadata/2.app-files.json",
    "metadata/2.targets.json",
    "metadata/9.targets.json",
    "metadata/10.targets.json",
    "metadata/3.snapshot.json",
    "metadata/1.root.json",
    "metadata/2.root.json",
    TIMESTAMP_PATH,
    "store/apps/notes.html",
    "store/assets/store.css",
    "index.html",
]


def test_the_marker_goes_first_content_before_metadata_and_the_timestamp_before_the_store() -> None:
    shuffled = IN_ORDER.copy()
    random.Random(18).shuffle(shuffled)
    assert shuffled != IN_ORDER
    assert publish_order(shuffled) == IN_ORDER


def test_only_the_timestamp_and_the_storefront_are_mutable() -> None:
    assert [path for path in IN_ORDER if is_mutable(path)] == IN_ORDER[-4:]


def test_a_file_that_only_looks_like_versioned_metadata_is_content() -> None:
    assert publish_order(["metadata/1.root.json", "metadata/1.root.json.bak"]) == [
        "metadata/1.root.json.bak",
        "metadata/1.root.json",
    ]


def test_a_repository_path_cannot_leave_the_repository() -> None:
    assert is_plain_relative("targets/icons/ab.notes.svg")
    for path in ("/etc/passwd", "../x", "a/../b", "a//b", "a/./b", "a/", ""):
        assert not is_plain_relative(path), path
