"""``archy build``: the catalog of apps/ at a commit, reproducibly, into OUT.

People get a progress bar on stderr and a short report; ``--json`` prints one
summary object on stdout for CI.  A refused build lists every problem and writes
nothing (exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import click

from catalog.catalog_model import CATALOG_NAME
from pipeline.build_cache import CACHE_DIR_NAME
from pipeline.build_types import BuildOptions, BuildRefused
from pipeline.catalog_build import build_catalog
from pipeline.commands.build_report import SUMMARY_JSON_HELP, RichProgress, problems_refused
from pipeline.commands.console import stderr, stdout
from pipeline.commands.keys import open_developer_identity
from pipeline.commands.options import (
    json_option,
    passphrase_options,
    repo_option,
    require_digests_option,
)
from pipeline.companions import COMPANION_FAILED, LocalPodman
from pipeline.digest_warnings import collapse_build_warnings


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


@click.command("build")
@repo_option("The git clone to build from.")
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
@require_digests_option("Refuse any image without a digest (publishing to production).")
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
@click.option(
    "--developer-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A third-party registry: sign every app entry with this developer identity "
    "(made by `archy dev keygen`); its passphrase comes from the passphrase options.",
)
@passphrase_options
@json_option(SUMMARY_JSON_HELP)
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
    developer_dir: Path | None,
    passphrase_file: Path | None,
    passphrase_env: str | None,
    as_json: bool,
) -> None:
    """Build OUT/app-catalog.json from apps/ at a commit, reproducibly.

    Validates and renders every app, pins images from images.lock.json,
    rebuilds companions whose build context changed, and refuses a changed
    app without a version or revision bump.  Nothing is written unless every
    check passes.
    """
    developer = (
        None
        if developer_dir is None
        else open_developer_identity(developer_dir, passphrase_file, passphrase_env).signer
    )
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
        developer=developer,
    )
    try:
        with RichProgress(quiet=as_json) as progress:
            result = build_catalog(options, progress)
    except BuildRefused as error:
        hint = companion_hint(error.problems, dev=dev, companions=companions)
        raise problems_refused(error.problems, error.warnings, as_json, hint=hint) from None
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
