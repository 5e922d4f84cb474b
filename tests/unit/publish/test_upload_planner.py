"""The upload planner and executor against a file origin: no server, the same rules as S3.

A built repository tree (``RepositoryBuilder``, signed by our repository side)
is planned and uploaded into a directory through ``FileOrigin``; the S3 tests
(tests/integration/s3) check the same planner against SeaweedFS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.layout import MARKER_BYTES, MARKER_PATH, TIMESTAMP_PATH, publish_order
from pipeline.publish.origin import OriginError, PublishConflictError, PublishError
from pipeline.publish.upload_executor import execute_plan
from pipeline.publish.upload_planner import plan_publish, read_repository_dir
from tests.support.repository_builder import RepositoryBuilder


@pytest.fixture
def builder(tmp_path: Path) -> RepositoryBuilder:
    built = RepositoryBuilder(tmp_path / "built")
    built.add_catalog('{"apps":"first"}')
    return built


def publish(origin: FileOrigin, files: dict[str, bytes]) -> tuple[str, ...]:
    return execute_plan(origin, plan_publish(origin, files)).uploaded


def tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by relative path (temporary files included)."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_a_first_upload_claims_the_directory_then_writes_in_the_publish_order(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    files = builder.files()
    origin = FileOrigin(tmp_path / "origin")
    plan = plan_publish(origin, files)
    assert not (tmp_path / "origin").exists()  # planning writes nothing
    assert [upload.path for upload in plan.uploads] == [MARKER_PATH, *publish_order(files)]
    assert plan.uploads[-1].path == TIMESTAMP_PATH
    assert {upload.reason for upload in plan.uploads} == {"new"}
    assert plan.origin_timestamp_version is None and plan.new_timestamp_version == 2
    result = execute_plan(origin, plan)
    assert result.uploaded == tuple(upload.path for upload in plan.uploads)
    assert result.bytes_uploaded == sum(map(len, files.values())) + len(MARKER_BYTES)
    assert tree(tmp_path / "origin") == {**files, MARKER_PATH: MARKER_BYTES}


def test_uploading_again_skips_everything_and_a_change_uploads_only_the_change(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    origin = FileOrigin(tmp_path / "origin")
    publish(origin, builder.files())
    again = plan_publish(origin, builder.files())
    assert again.uploads == [] and sorted(again.skipped) == sorted(builder.files())

    builder.add_catalog('{"apps":"second"}')
    changed = plan_publish(origin, builder.files())
    catalog = next(u.path for u in changed.uploads if u.path.startswith("targets/"))
    assert [u.path for u in changed.uploads] == [
        catalog,
        "metadata/3.targets.json",
        "metadata/3.snapshot.json",
        TIMESTAMP_PATH,
    ]
    assert changed.uploads[-1].reason == "changed"
    assert (changed.origin_timestamp_version, changed.new_timestamp_version) == (2, 3)
    execute_plan(origin, changed)
    assert tree(tmp_path / "origin") == {**builder.files(), MARKER_PATH: MARKER_BYTES}


def test_the_timestamp_version_never_goes_backwards_and_nothing_is_written(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    old = builder.files()
    builder.add_catalog('{"apps":"second"}')
    origin = FileOrigin(tmp_path / "origin")
    publish(origin, builder.files())
    before = tree(tmp_path / "origin")
    with pytest.raises(PublishConflictError) as refused:
        plan_publish(origin, old)
    assert str(refused.value) == (
        f"{tmp_path / 'origin' / TIMESTAMP_PATH} is at version 3; this publish has version 2, "
        "and the timestamp version never goes backwards: rebuild on top of the origin and retry"
    )
    assert tree(tmp_path / "origin") == before


def test_a_published_file_with_other_bytes_is_never_overwritten(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    files = builder.files()
    origin = FileOrigin(tmp_path / "origin")
    publish(origin, files)
    snapshot = "metadata/2.snapshot.json"
    forged = {**files, snapshot: files[snapshot] + b" ", TIMESTAMP_PATH: files[TIMESTAMP_PATH]}
    builder.add_catalog('{"apps":"second"}')
    forged[TIMESTAMP_PATH] = builder.files()[TIMESTAMP_PATH]  # a newer timestamp, so it gets far
    before = tree(tmp_path / "origin")
    with pytest.raises(PublishConflictError, match="already exists with other content") as refused:
        plan_publish(origin, forged)
    assert str(refused.value).startswith(str(tmp_path / "origin" / snapshot))
    assert tree(tmp_path / "origin") == before


def test_a_directory_that_is_not_a_repository_is_refused_and_left_alone(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    (tmp_path / "origin").mkdir()
    (tmp_path / "origin" / "notes.txt").write_text("someone else's\n")
    with pytest.raises(OriginError) as refused:
        plan_publish(FileOrigin(tmp_path / "origin"), builder.files())
    assert str(refused.value) == (
        f"{tmp_path / 'origin'} is not empty and has no .archy-repository marker: it is not an "
        "Archipelago repository; publish to an empty directory"
    )
    assert tree(tmp_path / "origin") == {"notes.txt": b"someone else's\n"}


def test_changed_storefront_pages_are_overwritten(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    origin = FileOrigin(tmp_path / "origin")
    files = {**builder.files(), "store/apps/a.html": b"<p>one</p>", "index.html": b"<p>i</p>"}
    assert publish(origin, files)[-2:] == ("store/apps/a.html", "index.html")
    files["store/apps/a.html"] = b"<p>two</p>"
    plan = plan_publish(origin, files)
    assert [(u.path, u.reason) for u in plan.uploads] == [("store/apps/a.html", "changed")]
    execute_plan(origin, plan)
    assert (tmp_path / "origin/store/apps/a.html").read_bytes() == b"<p>two</p>"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"targets/x": b""}, "nothing to publish: the repository has no metadata/timestamp.json"),
        (
            {TIMESTAMP_PATH: b"{}", "../escape": b""},
            "'../escape': repository paths must be relative, without '.' or '..'",
        ),
        (
            {TIMESTAMP_PATH: b"{}", MARKER_PATH: b""},
            "'.archy-repository': reserved for the origin's ownership marker",
        ),
    ],
)
def test_bad_input_is_refused_before_the_origin_is_touched(
    files: dict[str, bytes], message: str, tmp_path: Path
) -> None:
    with pytest.raises(PublishError) as refused:
        plan_publish(FileOrigin(tmp_path / "origin"), files)
    assert str(refused.value) == message
    assert not (tmp_path / "origin").exists()


def test_a_timestamp_that_is_not_timestamp_metadata_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PublishError) as refused:
        plan_publish(FileOrigin(tmp_path / "origin"), {TIMESTAMP_PATH: b"{}"})
    assert str(refused.value).startswith(
        "the repository's metadata/timestamp.json: not valid timestamp metadata ("
    )


class FailsAfterWritesFake(FileOrigin):
    """FAKE: a real file origin whose connection drops after ``allowed`` writes."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    def _spend(self, path: str) -> None:
        if self.allowed == 0:
            raise OriginError(f"{self.describe(path)}: connection lost (injected fault)")
        self.allowed -= 1

    def create(self, path: str, data: bytes, *args: object, **kwargs: object) -> bool:
        self._spend(path)
        return super().create(path, data)

    def replace(self, path: str, data: bytes) -> None:
        self._spend(path)
        super().replace(path, data)


def test_an_interrupted_upload_keeps_the_old_timestamp_and_a_rerun_finishes(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    old = builder.files()
    builder.add_catalog('{"apps":"second"}')
    new = builder.files()
    probe = FileOrigin(tmp_path / "probe")
    publish(probe, old)
    writes = len(plan_publish(probe, new).uploads)
    assert writes == 4  # the new catalog, targets, snapshot, timestamp
    for allowed in range(writes):
        directory = tmp_path / f"origin-{allowed}"
        publish(FileOrigin(directory), old)
        failing = FailsAfterWritesFake(directory, allowed)
        with pytest.raises(OriginError, match="injected fault"):
            execute_plan(failing, plan_publish(failing, new))
        assert (directory / TIMESTAMP_PATH).read_bytes() == old[TIMESTAMP_PATH]
        assert all((directory / path).read_bytes() == data for path, data in old.items())
        publish(FileOrigin(directory), new)
        assert tree(directory) == {**new, MARKER_PATH: MARKER_BYTES}


def test_read_repository_dir_leaves_out_the_marker_and_temporary_files(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    origin = FileOrigin(tmp_path / "origin")
    publish(origin, builder.files())
    (tmp_path / "origin" / "metadata" / ".tmp-abc").write_bytes(b"half")
    assert read_repository_dir(tmp_path / "origin") == builder.files()
    with pytest.raises(PublishError, match=r"no metadata/timestamp\.json: not a built repository"):
        read_repository_dir(tmp_path / "nothing")
