"""The build's inputs as they are at one git commit (or, for dev builds, in the work tree).

A publishing build reads ``apps/`` and ``images.lock.json`` from the commit's
tree, never from the work tree, so two clones of one commit see exactly the
same bytes; the only time it uses is the commit's committer time.  A dev
build of a dirty work tree reads the files on disk instead and says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # GitPython is imported when a repository is opened, not before:
    import git  # `archy app run` and the dev flow's engine probe run where git may be absent

APPS_DIR = "apps"
IMAGES_LOCK_NAME = "images.lock.json"
MAX_SOURCE_FILE_BYTES = 64 << 20

MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000


class SourceError(Exception):
    """The repository or commit cannot be read; the message says what to do."""


@dataclass(frozen=True)
class SourceFile:
    """One file of the snapshot: its path from the repository root, git mode and bytes."""

    path: str
    mode: int
    size: int
    _snapshot: Snapshot = field(repr=False, compare=False)
    _key: str = field(repr=False, compare=False)

    @property
    def is_symlink(self) -> bool:
        return self.mode == MODE_SYMLINK

    @property
    def blob_id(self) -> str | None:
        """The git blob id of a file read from a commit (None in a dirty work tree)."""
        return None if self._snapshot.dirty else self._key

    def read(self) -> bytes:
        """The file's bytes (for a symlink, its target)."""
        return self._snapshot.read_bytes(self._key)


@dataclass
class Snapshot:
    """The files a build reads, at one commit or from the work tree."""

    repo: git.Repo
    commit: str
    committed_at: str
    repository_url: str | None
    dirty: bool
    files: dict[str, SourceFile] = field(default_factory=dict)

    def read_bytes(self, key: str) -> bytes:
        if self.dirty:
            path = Path(self.repo.working_tree_dir or ".") / key
            if os.path.islink(path):
                return os.readlink(path).encode()
            return path.read_bytes()
        return bytes(self.repo.odb.stream(bytes.fromhex(key)).read())

    def get(self, path: str) -> SourceFile | None:
        return self.files.get(path)

    def under(self, folder: str) -> list[SourceFile]:
        """Every file below ``folder`` (a path from the root, no trailing slash), sorted."""
        prefix = folder.rstrip("/") + "/"
        return [each for path, each in sorted(self.files.items()) if path.startswith(prefix)]

    def app_ids(self) -> list[str]:
        """Every folder name directly under apps/ that holds at least one file."""
        ids = {
            path.split("/")[1]
            for path in self.files
            if path.startswith(APPS_DIR + "/") and path.count("/") >= 2
        }
        return sorted(ids)


def open_repo(path: Path) -> git.Repo:
    try:
        import git
    except ImportError as error:
        raise SourceError(
            f"cannot read git repositories here: {str(error).splitlines()[0]}"
        ) from None
    try:
        return git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise SourceError(f"{path} is not a git repository (run the build from a clone)") from None


def repository_url(repo: git.Repo) -> str | None:
    """The ``origin`` remote's URL without credentials, or None when there is no origin."""
    try:
        url = str(repo.remote("origin").url)
    except ValueError:
        return None
    if "://" in url:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def commit_time_utc(commit: git.Commit) -> str:
    """The committer time as ``YYYY-MM-DDTHH:MM:SSZ``: the only clock a build uses."""
    moment = datetime.fromtimestamp(int(commit.committed_date), tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_commit(repo: git.Repo, revision: str) -> git.Commit:
    import git

    try:
        return repo.commit(revision)
    except (git.BadName, ValueError, git.GitCommandError):
        raise SourceError(f"{revision!r} is not a commit in {repo.working_dir}") from None


def dirty_paths(repo: git.Repo) -> list[str]:
    """Paths under apps/ (and the image lock) that differ from HEAD, untracked ones included."""
    output = repo.git.status(
        "--porcelain=v1", "-z", "--untracked-files=all", "--", APPS_DIR, IMAGES_LOCK_NAME
    )
    paths: list[str] = []
    entries = iter(output.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, path = entry[:2], entry[3:]
        paths.append(path)
        if code[0] in "RC":
            next(entries, None)  # the rename's source path
    return sorted(paths)


def _tree_entries(repo: git.Repo, commit: str) -> Iterator[tuple[int, str, str, int]]:
    """(mode, object type, object id, size) and path of every file under apps/ and the lock."""
    output = repo.git.ls_tree(
        "-r", "-z", "--long", "--full-tree", commit, "--", APPS_DIR, IMAGES_LOCK_NAME
    )
    for record in output.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode_text, kind, object_id, size_text = meta.split()
        if kind != "blob":
            raise SourceError(
                f"{path} is a git {kind} (a submodule?); app folders may only hold files"
            )
        yield int(mode_text, 8), object_id, path, int(size_text)


def snapshot_at_commit(repo: git.Repo, revision: str = "HEAD") -> Snapshot:
    """The files under apps/ and the image lock exactly as ``revision`` records them."""
    commit = resolve_commit(repo, revision)
    snapshot = Snapshot(
        repo=repo,
        commit=commit.hexsha,
        committed_at=commit_time_utc(commit),
        repository_url=repository_url(repo),
        dirty=False,
    )
    for mode, object_id, path, size in _tree_entries(repo, commit.hexsha):
        if mode not in (MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK):
            raise SourceError(f"{path} has git mode {mode:o}; only files and symlinks are allowed")
        snapshot.files[path] = SourceFile(path, mode, size, snapshot, object_id)
    return snapshot


def snapshot_of_work_tree(repo: git.Repo) -> Snapshot:
    """Tracked and untracked (not ignored) files under apps/ as they are on disk now."""
    head = resolve_commit(repo, "HEAD")
    root = Path(repo.working_tree_dir or ".")
    snapshot = Snapshot(
        repo=repo,
        commit=head.hexsha,
        committed_at=commit_time_utc(head),
        repository_url=repository_url(repo),
        dirty=True,
    )
    listed = repo.git.ls_files(
        "-z", "--cached", "--others", "--exclude-standard", "--", APPS_DIR, IMAGES_LOCK_NAME
    )
    for path in sorted(set(filter(None, listed.split("\0")))):
        try:
            info = os.lstat(root / path)
        except FileNotFoundError:
            continue  # deleted in the work tree
        if stat.S_ISLNK(info.st_mode):
            mode = MODE_SYMLINK
        elif stat.S_ISREG(info.st_mode):
            mode = MODE_EXECUTABLE if info.st_mode & 0o111 else MODE_FILE
        else:
            raise SourceError(f"{path} is not a regular file or symlink")
        snapshot.files[path] = SourceFile(path, mode, info.st_size, snapshot, path)
    return snapshot


def open_snapshot(repo_path: Path, revision: str = "HEAD", *, dev: bool = False) -> Snapshot:
    """The build's inputs.

    A publishing build refuses a dirty apps/ (or image lock): what is published
    must be exactly what the commit says.  With ``dev``, a dirty work tree of
    HEAD is read from disk and the snapshot is marked dirty.
    """
    repo = open_repo(repo_path)
    if not repo.head.is_valid():
        raise SourceError(f"{repo_path} has no commits yet")
    changed = dirty_paths(repo)
    if changed and not dev:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise SourceError(
            f"uncommitted changes under {APPS_DIR}/ ({shown}); commit them, "
            "or build with --dev (a dev build is never published)"
        )
    head = repo.head.commit.hexsha
    if changed and resolve_commit(repo, revision).hexsha == head:
        return snapshot_of_work_tree(repo)
    return snapshot_at_commit(repo, revision)
