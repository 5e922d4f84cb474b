"""``archy images lock``: pin every pulled image's tag to the digest its registry serves.

Reads the apps in the work tree, asks each registry (HTTP API v2), writes
images.lock.json.  A refusal (a token failure, ``--require-digests`` with an
unresolved image, no registry reachable at all) writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.appset import load_app_folders
from pipeline.commands.build_report import SUMMARY_JSON_HELP, RichProgress, problems_refused
from pipeline.commands.console import stderr, stdout
from pipeline.commands.options import json_option, repo_option, require_digests_option
from pipeline.companions import LOCAL_OVERRIDE_TAG
from pipeline.gitsource import APPS_DIR, IMAGES_LOCK_NAME
from pipeline.imagelock import (
    LockFileError,
    RegistryClient,
    lock_images,
    read_lock_file,
    write_lock_file,
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
@repo_option("The repository whose apps/ is read (the work tree).")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"The lock file [default: REPO/{IMAGES_LOCK_NAME}].",
)
@require_digests_option("Refuse (write nothing) when any image cannot be resolved.")
@click.option(
    "--endpoint",
    "endpoint_values",
    multiple=True,
    metavar="HOST=URL",
    help="Ask URL for images of registry HOST (a mirror or API host; repeatable).",
)
@json_option(SUMMARY_JSON_HELP)
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
        raise problems_refused(problems, [], as_json, "images lock")
    try:
        previous = read_lock_file(lock_path)
    except LockFileError as error:
        raise problems_refused([str(error)], [], as_json, "images lock") from None
    client = RegistryClient(endpoints=endpoints)
    try:
        with RichProgress(quiet=as_json) as progress:
            progress.start("Resolving image digests", len(references))
            result = lock_images(references, client, previous, on_resolved=progress.advance)
    finally:
        client.close()
    failures = [message for _key, message in sorted(result.failures.items())]
    if failures and (require_digests or result.auth_failures):  # a token failure: always
        raise problems_refused(failures, [], as_json, "images lock")
    if result.unreachable and not result.resolved:  # offline: an empty lock helps nobody
        raise problems_refused(
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
