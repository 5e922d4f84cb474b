"""The options several ``archy`` commands share, declared once.

Each is a decorator (or a factory of one, when commands word the help for their own
case): ``--json``, ``--apps-dir``, ``--repo``, ``--dist``, ``--require-digests``,
the ceremony directory, the origin (``--to``, ``--endpoint-url``), the passphrase
sources and the online key.  A passphrase is never an option's value: only a file,
or the *name* of an environment variable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_APPS_DIR = Path("apps")
DEFAULT_CEREMONY_DIR = Path("ceremony")
DEFAULT_DIST_DIR = Path("dist")


def json_option(help_text: str | None = "Print JSON for scripts.") -> Callable[[F], F]:
    """``--json``, passed as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def apps_dir_option(help_text: str) -> Callable[[F], F]:
    """``--apps-dir``: the folder of app folders (default ``apps``)."""
    return click.option(
        "--apps-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_APPS_DIR,
        show_default=True,
        help=help_text,
    )


def repo_option(help_text: str) -> Callable[[F], F]:
    """``--repo``: the git clone (default the current directory)."""
    return click.option(
        "--repo",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("."),
        show_default=True,
        help=help_text,
    )


def dist_option(help_text: str, name: str = "dist") -> Callable[[F], F]:
    """``--dist``: where build outputs are (default ``dist``)."""
    return click.option(
        "--dist",
        name,
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_DIST_DIR,
        show_default=True,
        help=help_text,
    )


def require_digests_option(help_text: str) -> Callable[[F], F]:
    """``--require-digests``: refuse any image without an @sha256 digest."""
    return click.option("--require-digests", is_flag=True, help=help_text)


ceremony_dir_option = click.option(
    "--dir",
    "ceremony_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_CEREMONY_DIR,
    show_default=True,
    help="The ceremony directory (trusted roots and signing events).",
)


def ceremony_option(help_text: str | None = None) -> Callable[[F], F]:
    """``--ceremony``: the ceremony directory, as publishing names it."""
    return click.option(
        "--ceremony",
        "ceremony_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_CEREMONY_DIR,
        show_default=True,
        help=help_text,
    )


destination_option = click.option(
    "--to", "destination", required=True, help="The origin: file://DIR or s3://BUCKET/PREFIX."
)

s3_endpoint_option = click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL_S3",
    help="S3-compatible endpoint for s3:// origins (default: the AWS chain's).",
)


def passphrase_options(function: F) -> F:
    """``--passphrase-file`` and ``--passphrase-env NAME`` (else a hidden prompt)."""
    function = click.option(
        "--passphrase-env",
        metavar="NAME",
        help="Read passphrases from the environment variable NAME (tests, CI).",
    )(function)
    return click.option(
        "--passphrase-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Read passphrases from this file (first line).",
    )(function)


def online_key_options(function: F) -> F:
    """``--online-key FILE`` or ``--online-key-env NAME``, and the passphrase options."""
    function = click.option(
        "--online-key-env",
        metavar="NAME",
        help="Environment variable holding the online key file's contents (CI).",
    )(function)
    function = click.option(
        "--online-key",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The online (snapshot and timestamp) key file.",
    )(function)
    return passphrase_options(function)
