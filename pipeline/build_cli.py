"""``archy build`` and ``archy images lock``: thin commands over the catalog build and the lock.

Registered into the ``archy`` group by ``pipeline.cli``.  People get a
progress bar on stderr and a short report; ``--json`` prints one summary
object on stdout for CI.  Exit codes: 0 ok, 1 refused (nothing written),
2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from catalog.catalog_model import CATALOG_NAME
from pipeline.appset import load_app_folders
from pipeline.catalog_build import CACHE_DIR_NAME, BuildOptions, BuildRefused, build_catalog
from pipeline.companions import COMPANION_FAILED, LOCAL_OVERRIDE_TAG, LocalPodman
from pipeline.digest_warnings import collapse_build_warnings
from pipeline.gitsource import APPS_DIR, IMAGES_LOCK_NAME
from pipeline.imagelock import (
    LockFileError,
    RegistryClient,
    lock_images,
    read_lock_file,
    write_lock_file,
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class RichProgress:
    """A progress bar per long step, on stderr; silent when ``quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[item]}"),
            console=stderr,
            transient=True,
            disable=quiet or not stderr.is_terminal,  # a bar only for a person at a terminal
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start(self, step: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(step, total=total, item="")
        if not self.quiet:
            stderr.print(f"{step} ({total})", style="dim", markup=False)

    def advance(self, item: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, item=item)


def companion_hint(problems: list[str], *, dev: bool, companions: str) -> str | None:
    """When a companion image failed to build (offline, no base image), name the way around it."""
    if companions == "skip" or not any(COMPANION_FAILED in problem for problem in problems):
        return None
    if dev:
        return (
            "hint: offline, or the base images are not pulled? "
            "`archy build --dev --companions skip` leaves out the apps whose companion "
            "image must be built"
        )
    return (
        "hint: a publishing build needs every companion; "
        "for a dev build try --dev --companions skip"
    )


def _refused(
    problems: list[str],
    warnings: list[str],
    as_json: bool,
    what: str = "build",
    hint: str | None = None,
) -> NoReturn:
    if as_json:
        document: dict[str, Any] = {"ok": False, "errors": problems, "warnings": warnings}
        if hint is not None:
            document["hint"] = hint
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        for warning in collapse_build_warnings(warnings):
            stderr.print(f"warning: {warning}", style="yellow", markup=False)
        for problem in problems:
            stderr.print(f"error: {problem}", style="red", markup=False)
        stderr.print(f"{what} refused ({len(problems)} errors); nothing was written", style="red")
        if hint is not None:
            stderr.print(hint, markup=False)
    sys.exit(1)


@click.command("build")
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="The git clone to build from.",
)
@click.option(
    "--commit",
    "revision",
    default="HEAD",
    show_default=True,
    help="The commit (or any revision) whose apps/ is built.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--previous",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The previous catalog to compare with [default: OUT/app-catalog.json].",
)
@click.option(
    "--dev",
    is_flag=True,
    help="Allow uncommitted changes and missing digests; mark the catalog a dev build.",
)
@click.option(
    "--require-digests",
    is_flag=True,
    help="Refuse any image without a digest (publishing to production).",
)
@click.option(
    "--repository",
    "repository_url",
    help="The source repository to record [default: the origin remote's URL].",
)
@click.option(
    "--node-binary",
    "node_binaries",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="archy-node-linux-<arch> to ship as a target (repeatable).",
)
@click.option(
    "--rebuild-companions",
    is_flag=True,
    help="Rebuild every companion even if its context did not change.",
)
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    metavar="URL",
    help="A swarm seed (http(s):// or iroh://) to record in the catalog (repeatable).",
)
@click.option(
    "--companions",
    type=click.Choice(["build", "skip"]),
    default="build",
    show_default=True,
    help="skip (with --dev only): leave out the apps whose companion image must be built.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help=f"Do not read or write the build cache (REPO/{CACHE_DIR_NAME}).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def build(
    repo: Path,
    revision: str,
    out_dir: Path,
    previous: Path | None,
    dev: bool,
    require_digests: bool,
    repository_url: str | None,
    node_binaries: tuple[Path, ...],
    rebuild_companions: bool,
    seeds: tuple[str, ...],
    companions: Literal["build", "skip"],
    no_cache: bool,
    as_json: bool,
) -> None:
    """Build OUT/app-catalog.json from apps/ at a commit, reproducibly.

    Validates and renders every app, pins images from images.lock.json,
    rebuilds companions whose build context changed, and refuses a changed
    app without a version or revision bump.  Nothing is written unless every
    check passes.
    """
    options = BuildOptions(
        repo=repo,
        revision=revision,
        out_dir=out_dir,
        previous=previous if previous is not None else out_dir / CATALOG_NAME,
        dev=dev,
        require_digests=require_digests,
        repository_url=repository_url,
        node_binaries=list(node_binaries),
        rebuild_companions=rebuild_companions,
        podman=LocalPodman(),
        seeds=list(seeds),
        cache_dir=None if no_cache else repo / CACHE_DIR_NAME,
        companions=companions,
    )
    try:
        with RichProgress(quiet=as_json) as progress:
            result = build_catalog(options, progress)
    except BuildRefused as error:
        hint = companion_hint(error.problems, dev=dev, companions=companions)
        _refused(error.problems, error.warnings, as_json, hint=hint)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2, sort_keys=True))
        return
    for warning in collapse_build_warnings(result.warnings):
        stderr.print(f"warning: {warning}", style="yellow", markup=False)
    for line in result.changes.lines():
        stdout.print(line, markup=False)
    if not result.changes.lines():
        stdout.print("no app changed", style="dim")
    built = result.companions_built
    if result.left_out:
        stdout.print(
            f"left out of this dev build (companions: skip): {', '.join(result.left_out)}",
            markup=False,
        )
    stdout.print(
        f"{result.catalog_path}: {len(result.catalog.apps)} apps, {len(result.catalog_bytes)} "
        f"bytes, blake3 {result.catalog_blake3}; companions built: "
        f"{', '.join(built) or 'none'}" + (" [dev build]" if dev else ""),
        markup=False,
    )


def _images_to_lock(repo: Path) -> tuple[list[str], list[str]]:
    """Every pulled image of the apps in the work tree (companions are built, not pulled)."""
    apps, problems = load_app_folders([repo / APPS_DIR])
    references = [
        member.image
        for app in apps
        for member in app.source.manifest.containers
        if member.build is None and member.image_tag != LOCAL_OVERRIDE_TAG
    ]
    return sorted(set(references)), [str(problem) for problem in problems]


def _parse_endpoints(values: tuple[str, ...]) -> dict[str, str]:
    endpoints: dict[str, str] = {}
    for value in values:
        host, separator, url = value.partition("=")
        if not separator or not host or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{value!r}: write HOST=URL, e.g. mirror.example=https://…")
        endpoints[host] = url
    return endpoints


@click.group("images")
def images() -> None:
    """Container images: pin every repo:tag to the digest its registry serves."""


@images.command("lock")
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="The repository whose apps/ is read (the work tree).",
)
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"The lock file [default: REPO/{IMAGES_LOCK_NAME}].",
)
@click.option(
    "--require-digests",
    is_flag=True,
    help="Refuse (write nothing) when any image cannot be resolved.",
)
@click.option(
    "--endpoint",
    "endpoint_values",
    multiple=True,
    metavar="HOST=URL",
    help="Ask URL for images of registry HOST (a mirror or API host; repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def lock(
    repo: Path,
    lock_path: Path | None,
    require_digests: bool,
    endpoint_values: tuple[str, ...],
    as_json: bool,
) -> None:
    """Resolve every image's tag to its digest and write images.lock.json.

    Uses the registry HTTP API v2 (anonymous or bearer-token pulls); records
    the tag's digest and each architecture's image digest.  Without
    --require-digests an image that cannot be resolved is a warning and keeps
    its previous pin.
    """
    lock_path = lock_path or repo / IMAGES_LOCK_NAME
    endpoints = _parse_endpoints(endpoint_values)
    references, problems = _images_to_lock(repo)
    if problems:
        _refused(problems, [], as_json, "images lock")
    try:
        previous = read_lock_file(lock_path)
    except LockFileError as error:
        _refused([str(error)], [], as_json, "images lock")
        return
    client = RegistryClient(endpoints=endpoints)
    try:
        with RichProgress(quiet=as_json) as progress:
            progress.start("Resolving image digests", len(references))
            result = lock_images(references, client, previous, on_resolved=progress.advance)
    finally:
        client.close()
    failures = [message for _key, message in sorted(result.failures.items())]
    if failures and (require_digests or result.auth_failures):  # a token failure: always
        _refused(failures, [], as_json, "images lock")
    if result.unreachable and not result.resolved:  # offline: an empty lock helps nobody
        _refused(
            [
                *failures,
                f"no registry could be reached for any of the {len(references)} images; "
                f"{lock_path} was left as it was (check the network, or --endpoint HOST=URL)",
            ],
            [],
            as_json,
            "images lock",
        )
    write_lock_file(lock_path, result.lock)
    summary: dict[str, Any] = {**result.as_json(), "lock": str(lock_path)}
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    for failure in failures:
        stderr.print(f"warning: {failure}", style="yellow", markup=False)
    for key, locked in sorted(result.resolved.items()):
        arches = ", ".join(sorted(locked.platforms))
        stdout.print(f"{key} -> {locked.digest} ({arches})", markup=False)
    stdout.print(
        f"{lock_path}: {len(result.lock.images)} images, {len(result.resolved)} resolved, "
        f"{len(failures)} unresolved",
        markup=False,
    )
