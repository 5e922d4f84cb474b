"""Self-update of the frozen ``archy-node`` from the catalog's node target.

The agent is a one-dir bundle, published per platform as the TUF target
``node/archy-node-linux-amd64.tar.xz`` (``catalog/node_bundle.py``) and installed as
``<prefix>/archy-node -> archy-node-<16 hex>/archy-node``
(``node_runtime/install_layout.py``).  When the catalog names another bundle:

1. download it through the verified TUF :class:`~node_runtime.fetch.tuf_client.Updater`
   (length and every hash checked before the file is kept) — a tampered or unsigned
   download is refused here, before anything is unpacked;
2. hash it again and unpack it, as hostile input, into a hidden directory beside the
   installed bundle (fsynced), then rename that to ``archy-node-<16 hex>``;
3. probe the new executable where it lies: ``archy-node version`` must answer
   ``archy-node …`` with exit 0 within a deadline; if not, remove the new bundle,
   remember its hash in ``archy-node.rejected`` (it is not tried again) and say why;
4. swap: a new symlink renamed over ``archy-node`` (one rename), then probe again
   through the link, the path systemd runs; if that fails, rename the link back onto
   the installed bundle;
5. point ``archy-node.previous`` at the bundle that was installed (kept for rollback)
   and remove older ones; the caller may :func:`reexec`.

Every change is a rename of a complete directory or link, so a crash leaves the link
on the old or the new bundle, never half of one; the next update first removes what a
killed one left.

Public API:

- ``node_platform()``, ``node_target_name(platform)``, ``running_binary()``;
- ``previous_binary_path(link)``, ``rejected_marker_path(link)``, ``file_blake3(path)``;
- ``UpdateCheck`` and ``check_for_update(updater, link, target_name,
  expected_blake3=None)``;
- ``UpdateOutcome`` and ``install_update(updater, check, link,
  probe_timeout=DEFAULT_PROBE_TIMEOUT)``;
- ``self_update(...)`` — the two together;
- ``CatalogUpdate`` and ``update_from_catalog(paths, link, check_only=…,
  probe_timeout=…)`` — what ``archy-node self-update`` runs: the bundle the node's
  current catalog names, through the node's origin, under the state lock;
- ``probe_binary(binary, timeout) -> str`` (raises ``ProbeFailedError``);
- ``reexec(binary, arguments)`` — replace this process with the new binary;
- errors: ``SelfUpdateError`` (refused; the link names the bundle it named) and its
  subclass ``ProbeFailedError``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import blake3

from catalog.catalog_model import CatalogError, parse_catalog
from catalog.catalog_model import TargetFile as CatalogTarget
from catalog.node_bundle import BundleError, bundle_file_name
from node_runtime.bundle_unpack import unpack_bundle
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.tuf_client import Updater
from node_runtime.install_layout import (
    InstallLayout,
    LayoutError,
    bundle_directory_name,
    installed_link,
)
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
    """The update was refused or failed; the link names the bundle it named before."""


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
    """The TUF target of a platform's bundle: ``node/archy-node-linux-amd64.tar.xz``."""
    return f"{NODE_TARGET_DIRECTORY}/{bundle_file_name(node_platform_name)}"


def running_binary() -> Path | None:
    """The link that runs this frozen binary (``<prefix>/archy-node``), or its executable
    when no such link names it (self-update then refuses), or None under Python."""
    if not getattr(sys, "frozen", False):
        return None
    executable = Path(sys.executable).resolve()
    return installed_link(executable) or executable


def previous_binary_path(binary: Path) -> Path:
    return InstallLayout(binary).previous_link


def rejected_marker_path(binary: Path) -> Path:
    return InstallLayout(binary).rejected_marker


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
    installed_bundle: str  # the directory the link names: archy-node-<16 hex>
    rejected_before: bool

    @property
    def offered_blake3(self) -> str:
        return self.target.hashes["blake3"]

    @property
    def offered_bundle(self) -> str:
        return bundle_directory_name(self.offered_blake3)

    @property
    def needed(self) -> bool:
        return self.offered_bundle != self.installed_bundle and not self.rejected_before


def check_for_update(
    updater: Updater,
    binary: Path,
    target_name: str,
    expected_blake3: str | None = None,
) -> UpdateCheck:
    """Compare the signed target ``target_name`` with the bundle the link ``binary`` names.

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
    layout = InstallLayout(binary)
    try:
        installed = layout.current_bundle()
    except LayoutError as error:
        raise SelfUpdateError(str(error)) from None
    marker = layout.rejected_marker
    rejected = marker.read_text().strip() if marker.exists() else ""
    return UpdateCheck(target_name, target, installed, rejected_before=rejected == offered)


# --- swapping ---


@dataclass(frozen=True)
class UpdateOutcome:
    status: Literal["up-to-date", "updated", "rolled-back", "rejected-before"]
    binary: Path
    installed_bundle: str
    offered_blake3: str
    previous: Path | None = None
    detail: str = ""


def _write_marker(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _unpack_beside(layout: InstallLayout, downloaded: Path, check: UpdateCheck) -> Path:
    """The verified download unpacked, by one rename, as ``archy-node-<16 hex>``."""
    if file_blake3(downloaded) != check.offered_blake3:
        raise SelfUpdateError(f"{downloaded} changed after it was verified; nothing was swapped")
    incoming = layout.incoming(check.offered_bundle)
    if incoming.exists():
        layout.remove_bundle(incoming.name)
    try:
        unpack_bundle(downloaded, incoming)
    except BundleError as error:
        raise SelfUpdateError(
            f"refused the bundle {check.target_name}: {error}; nothing was swapped"
        ) from None
    try:
        return layout.move_into_place(incoming, check.offered_bundle)
    except BaseException:
        layout.remove_bundle(incoming.name)
        raise


def _rejected(
    layout: InstallLayout, check: UpdateCheck, failure: ProbeFailedError, restored: str
) -> UpdateOutcome:
    _write_marker(layout.rejected_marker, check.offered_blake3 + "\n")
    layout.remove_bundle(check.offered_bundle)
    return UpdateOutcome(
        "rolled-back",
        layout.link,
        check.installed_bundle,
        check.offered_blake3,
        previous=layout.bundle(check.installed_bundle),
        detail=f"{failure}; {restored}",
    )


def install_update(
    updater: Updater,
    check: UpdateCheck,
    binary: Path,
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
) -> UpdateOutcome:
    """Download, verify, unpack, probe, swap the link and probe again; on a failed
    probe the link names the installed bundle (put back if it had been swapped)."""
    offered = check.offered_blake3
    layout = InstallLayout(binary)
    if not check.needed:
        status: Literal["up-to-date", "rejected-before"] = (
            "rejected-before" if check.rejected_before else "up-to-date"
        )
        detail = (
            f"{layout.rejected_marker} names this bundle: it failed "
            "to start before; delete that file to try it again"
            if check.rejected_before
            else ""
        )
        return UpdateOutcome(status, binary, check.installed_bundle, offered, detail=detail)
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
    installed = check.installed_bundle
    try:
        layout.remove_leftovers()
        bundle = _unpack_beside(layout, downloaded, check)
    except (OSError, LayoutError) as error:
        raise SelfUpdateError(f"cannot swap {binary}: {error}; nothing was swapped") from None
    try:
        probe_binary(bundle / "archy-node", probe_timeout)
    except ProbeFailedError as failure:
        return _rejected(layout, check, failure, f"{binary} still names {installed}")
    try:
        layout.point(binary, check.offered_bundle)
    except OSError as error:
        layout.remove_bundle(check.offered_bundle)
        raise SelfUpdateError(f"cannot swap {binary}: {error}; nothing was swapped") from None
    try:
        answer = probe_binary(binary, probe_timeout)
    except ProbeFailedError as failure:
        try:
            layout.point(binary, installed)
        except OSError as error:
            raise SelfUpdateError(
                f"{failure}; and restoring {binary} -> {installed}/archy-node failed: {error} "
                f"— point it back by hand (ln -sfn {installed}/archy-node {binary})"
            ) from None
        return _rejected(layout, check, failure, f"{binary} names {installed} again")
    previous = layout.previous_link
    with contextlib.suppress(OSError):  # the update stands; only the rollback link is late
        layout.point(previous, installed)
        layout.remove_leftovers()  # bundles older than the previous one
    layout.rejected_marker.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        downloaded.unlink()  # the unpacked bundle is the copy worth keeping
    return UpdateOutcome(
        "updated", binary, check.offered_bundle, offered, previous=previous, detail=answer
    )


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
