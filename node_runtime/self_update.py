"""Self-update of the frozen ``archy-node`` binary from the catalog's node target.

The catalog names one binary per platform (``node/archy-node-linux-amd64``,
a TUF target signed by the targets role).  When it is not the binary that is
installed:

1. download it through the verified TUF :class:`~node_runtime.fetch.tuf_client.Updater`
   (length and every hash checked before the file is kept) — a tampered or
   unsigned download is refused here, before anything is swapped;
2. copy it beside the installed binary (hashing the copy again, mode 0755,
   fsync);
3. keep the installed binary as ``<binary>.previous`` (a hard link, so the
   previous file stays whole) and swap the new one in with one ``rename``;
4. probe the new binary where it now lives: ``<binary> version`` must answer
   ``archy-node …`` with exit 0 within a deadline;
5. if the probe fails, put the previous binary back (another ``rename``),
   remember the refused hash in ``<binary>.rejected`` so the same binary is
   not tried again, and say why; otherwise the caller may :func:`reexec`.

Every change to the binary's directory is a rename of a complete file, so a
crash leaves either the old or the new binary in place, never half of one.

Public API:

- ``node_platform()``, ``node_target_name(platform)``, ``running_binary()``;
- ``previous_binary_path(binary)``, ``rejected_marker_path(binary)``,
  ``file_blake3(path)``;
- ``UpdateCheck`` and ``check_for_update(updater, binary, target_name,
  expected_blake3=None)``;
- ``UpdateOutcome`` and ``install_update(updater, check, binary,
  probe_timeout=DEFAULT_PROBE_TIMEOUT)``;
- ``self_update(...)`` — the two together;
- ``CatalogUpdate`` and ``update_from_catalog(paths, binary, check_only=…,
  probe_timeout=…)`` — what ``archy-node self-update`` runs: the binary the node's
  current catalog names, through the node's origin, under the state lock;
- ``probe_binary(binary, timeout) -> str`` (raises ``ProbeFailedError``);
- ``reexec(binary, arguments)`` — replace this process with the new binary;
- errors: ``SelfUpdateError`` (refused; the installed binary is unchanged)
  and its subclass ``ProbeFailedError``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import blake3

from catalog.catalog_model import CatalogError, parse_catalog
from catalog.catalog_model import TargetFile as CatalogTarget
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.tuf_client import Updater
from node_runtime.store.atomic_file import fsync_directory
from node_runtime.store.blob_store import BlobError, BlobStore
from node_runtime.store.node_config import load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from signing.errors import TufError
from signing.metadata import TargetFile

NODE_TARGET_DIRECTORY = "node"
PROBE_ARGUMENTS = ("version",)
PROBE_ANSWER_PREFIX = "archy-node "
DEFAULT_PROBE_TIMEOUT = 30.0
_MACHINE_PLATFORMS = {"x86_64": "linux-amd64", "amd64": "linux-amd64", "aarch64": "linux-arm64"}


class SelfUpdateError(Exception):
    """The update was refused or failed; the installed binary is the one that was there."""


class ProbeFailedError(SelfUpdateError):
    """A binary did not answer the health probe in time, or answered wrongly."""


# --- where things are ---


def node_platform() -> str:
    """This machine's platform as the catalog names it (``linux-amd64``, ``linux-arm64``)."""
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in _MACHINE_PLATFORMS:
        raise SelfUpdateError(f"no node binary is published for {sys.platform}/{machine}")
    return _MACHINE_PLATFORMS[machine]


def node_target_name(node_platform_name: str) -> str:
    """The TUF target name of the binary for a platform: ``node/archy-node-linux-amd64``."""
    return f"{NODE_TARGET_DIRECTORY}/archy-node-{node_platform_name}"


def running_binary() -> Path | None:
    """The frozen binary this process runs from, or None under a Python interpreter."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(sys.executable).resolve()


def previous_binary_path(binary: Path) -> Path:
    return binary.with_name(f"{binary.name}.previous")


def rejected_marker_path(binary: Path) -> Path:
    return binary.with_name(f"{binary.name}.rejected")


def file_blake3(path: Path) -> str:
    hasher = blake3.blake3()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


# --- the health probe ---


def probe_binary(binary: Path, timeout: float = DEFAULT_PROBE_TIMEOUT) -> str:
    """Run ``binary version``; return its answer, or raise :class:`ProbeFailedError`.

    The binary runs in its own process group, and the whole group is killed
    when the deadline passes (a one-file binary is a bootloader plus a child).
    """
    command = [str(binary), *PROBE_ARGUMENTS]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as error:
        raise ProbeFailedError(f"{binary} does not start: {error.strerror}") from None
    try:
        output, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ProbeFailedError(
            f"{binary} did not answer `{' '.join(PROBE_ARGUMENTS)}` within {timeout:g} s"
        ) from None
    answer = output.decode("utf-8", "replace").strip()
    if process.returncode != 0 or not answer.startswith(PROBE_ANSWER_PREFIX):
        detail = (errors.decode("utf-8", "replace").strip() or answer or "no output")[-300:]
        raise ProbeFailedError(
            f"{binary} failed its start probe (exit {process.returncode}): {detail}"
        )
    return answer.splitlines()[0]


# --- deciding ---


@dataclass(frozen=True)
class UpdateCheck:
    """What the signed repository offers against what is installed."""

    target_name: str
    target: TargetFile
    installed_blake3: str
    rejected_before: bool

    @property
    def offered_blake3(self) -> str:
        return self.target.hashes["blake3"]

    @property
    def needed(self) -> bool:
        return self.offered_blake3 != self.installed_blake3 and not self.rejected_before


def check_for_update(
    updater: Updater,
    binary: Path,
    target_name: str,
    expected_blake3: str | None = None,
) -> UpdateCheck:
    """Compare the signed target ``target_name`` with ``binary``.

    ``expected_blake3`` is what the catalog names; the signed target must agree.
    """
    try:
        target = updater.get_targetinfo(target_name)
    except TufError as error:
        raise SelfUpdateError(f"cannot look up {target_name}: {error}") from None
    if target is None:
        raise SelfUpdateError(f"the repository's signed targets have no {target_name}")
    offered = target.hashes.get("blake3")
    if offered is None:
        raise SelfUpdateError(f"{target_name} is signed without a blake3 hash")
    if expected_blake3 is not None and expected_blake3 != offered:
        raise SelfUpdateError(
            f"the catalog names {target_name} with blake3 {expected_blake3}, the signed "
            f"targets with {offered}; pull again and retry"
        )
    try:
        installed = file_blake3(binary)
    except OSError as error:
        raise SelfUpdateError(f"{binary}: cannot read the installed binary ({error})") from None
    marker = rejected_marker_path(binary)
    rejected = marker.read_text().strip() if marker.exists() else ""
    return UpdateCheck(target_name, target, installed, rejected_before=rejected == offered)


# --- swapping ---


@dataclass(frozen=True)
class UpdateOutcome:
    status: Literal["up-to-date", "updated", "rolled-back", "rejected-before"]
    binary: Path
    installed_blake3: str
    offered_blake3: str
    previous: Path | None = None
    detail: str = ""


def _stage_beside(source: Path, binary: Path, expected_blake3: str) -> Path:
    """Copy ``source`` to a temporary file in ``binary``'s directory, checking its hash."""
    handle, temporary = tempfile.mkstemp(dir=binary.parent, prefix=f".{binary.name}.incoming-")
    try:
        hasher = blake3.blake3()
        with source.open("rb") as reader, os.fdopen(handle, "wb") as writer:
            while chunk := reader.read(1 << 20):
                hasher.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fchmod(writer.fileno(), 0o755)
            os.fsync(writer.fileno())
        if hasher.hexdigest() != expected_blake3:
            raise SelfUpdateError(f"{source} changed after it was verified; nothing was swapped")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Path(temporary)


def _replace_with_copy_of(source: Path, destination: Path) -> None:
    """Make ``destination`` the same bytes as ``source`` in one rename (hard link if possible)."""
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    try:
        try:
            os.link(source, temporary)
        except OSError:
            shutil.copy2(source, temporary)
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write_marker(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def install_update(
    updater: Updater,
    check: UpdateCheck,
    binary: Path,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
) -> UpdateOutcome:
    """Download, verify, swap and probe; roll back if the new binary does not start."""
    offered = check.offered_blake3
    if not check.needed:
        status: Literal["up-to-date", "rejected-before"] = (
            "rejected-before" if check.rejected_before else "up-to-date"
        )
        detail = (
            f"{rejected_marker_path(binary)} names this binary: it failed "
            "to start before; delete that file to try it again"
            if check.rejected_before
            else ""
        )
        return UpdateOutcome(status, binary, check.installed_blake3, offered, detail=detail)
    try:
        downloaded = updater.find_cached_target(check.target) or updater.download_target(
            check.target
        )
    except TufError as error:
        raise SelfUpdateError(
            f"refused the download of {check.target_name}: {error}; the installed binary "
            "is unchanged"
        ) from None
    except (OSError, ValueError) as error:
        raise SelfUpdateError(
            f"cannot store the download of {check.target_name}: {error}"
        ) from None
    directory = binary.parent
    previous = previous_binary_path(binary)
    try:
        staged = _stage_beside(downloaded, binary, offered)
        try:
            _replace_with_copy_of(binary, previous)
            os.replace(staged, binary)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
            raise
        fsync_directory(directory)
    except OSError as error:
        raise SelfUpdateError(f"cannot swap {binary}: {error}; nothing was swapped") from None
    try:
        answer = probe_binary(binary, probe_timeout)
    except ProbeFailedError as failure:
        try:
            _replace_with_copy_of(previous, binary)
            _write_marker(rejected_marker_path(binary), offered + "\n")
            fsync_directory(directory)
        except OSError as error:
            raise SelfUpdateError(
                f"{failure}; and restoring {previous} failed: {error} — copy it over {binary} "
                "by hand"
            ) from None
        return UpdateOutcome(
            "rolled-back",
            binary,
            check.installed_blake3,
            offered,
            previous=previous,
            detail=f"{failure}; the previous binary is back in place",
        )
    rejected_marker_path(binary).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        downloaded.unlink()  # the binary itself is the copy worth keeping
    return UpdateOutcome("updated", binary, offered, offered, previous=previous, detail=answer)


def self_update(
    updater: Updater,
    binary: Path,
    target_name: str,
    expected_blake3: str | None = None,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
) -> UpdateOutcome:
    """Bring ``binary`` to the signed ``target_name``; see the module's docstring."""
    check = check_for_update(updater, binary, target_name, expected_blake3)
    return install_update(updater, check, binary, probe_timeout)


# --- from the node's current catalog ---


@dataclass(frozen=True)
class CatalogUpdate:
    """What ``archy-node self-update`` found for ``platform``: the signed offer (None when
    the catalog names no node binary for it) and, unless only checking, the outcome."""

    platform: str
    check: UpdateCheck | None
    outcome: UpdateOutcome | None


def _catalog_node_target(paths: NodePaths, platform_name: str) -> CatalogTarget | None:
    current = NodeState(paths).current_catalog()
    if current is None:
        raise SelfUpdateError("this node has no catalog yet; run `archy-node pull` first")
    try:
        catalog = parse_catalog(BlobStore(paths.blobs_dir).read_verified(current.current.blake3))
    except (BlobError, CatalogError) as error:
        raise SelfUpdateError(f"the current catalog is unreadable ({error}); pull again") from None
    return None if catalog.node is None else catalog.node.get(platform_name)  # type: ignore[call-overload]


def update_from_catalog(
    paths: NodePaths, binary: Path, *, check_only: bool, probe_timeout: float
) -> CatalogUpdate:
    """Refresh trust from the node's origin under the state lock and bring ``binary`` to
    the node binary the current catalog names (``check_only``: only compare).

    Raises SelfUpdateError, NodeConfigError, StateError, TufError, ValueError, OSError.
    """
    platform_name = node_platform()
    config = load_config(paths)
    metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
    with NodeState(paths).lock():
        wanted = _catalog_node_target(paths, platform_name)
        if wanted is None:
            return CatalogUpdate(platform_name, None, None)
        fetcher = OriginFetcher()
        try:
            updater = Updater(
                paths.trust_dir,
                metadata_url,
                target_dir=paths.root / "self-update",
                target_base_url=targets_url,
                fetcher=fetcher,
            )
            (paths.root / "self-update").mkdir(parents=True, exist_ok=True)
            offer = check_for_update(updater, binary, wanted.name, wanted.blake3)
            outcome = None if check_only else install_update(updater, offer, binary, probe_timeout)
        finally:
            fetcher.close()
    return CatalogUpdate(platform_name, offer, outcome)


def reexec(binary: Path, arguments: list[str]) -> NoReturn:
    """Replace this process with ``binary arguments…`` (same pid, same environment)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(binary, [str(binary), *arguments])  # noqa: S606 (no shell: the exec is the point)
