"""``archy``: the publisher's and app developer's command line — the registry of its commands.

Every command lives in :mod:`pipeline.commands` and is listed here once, as
``name -> ("module:attribute", short help)``; ``catalog.command_group.LazyGroup``
imports a command's module only when it runs (``archy --help`` and ``archy
validate`` load no boto3, GitPython or httpx) and turns any ``Refused`` into
``error: …`` and exit 1, in one place.  Exit codes: 0 ok, 1 the input was refused,
2 usage error.
"""

from __future__ import annotations

import click

from catalog.command_group import LazyGroup

# command name -> "module:attribute", imported when the command runs (see catalog.command_group)
LAZY_COMMANDS = {
    "schema": (
        "pipeline.commands.validate:schema",
        "Print the JSON Schema of manifest.yml (schema 1), for editors and linters.",
    ),
    "validate": (
        "pipeline.commands.validate:validate",
        "Check app manifests: schema, security policy and cross-app rules.",
    ),
    "build": (
        "pipeline.commands.build:build",
        "Build OUT/app-catalog.json from apps/ at a commit.",
    ),
    "images": (
        "pipeline.commands.images:images",
        "Container images: pin every repo:tag to a digest.",
    ),
    "ceremony": ("pipeline.commands.ceremony:ceremony", "The maintainers' signing ceremony."),
    "publish": ("pipeline.commands.publish:publish", "Publish a threshold-signed event."),
    "refresh-timestamp": (
        "pipeline.commands.publish:refresh_timestamp_command",
        "Re-sign the timestamp (and the snapshot when due).",
    ),
    "dev-flow": (
        "pipeline.commands.dev_flow:dev_flow",
        "Build, sign, publish and pull, all local.",
    ),
    "publish-s3": (
        "pipeline.commands.publish_s3:publish_s3_command",
        "Publish a built repository to S3.",
    ),
    "import": ("pipeline.commands.import_apps:import_group", "Convert Umbrel/CasaOS apps."),
    "storefront": ("pipeline.commands.storefront:storefront", "The static storefront."),
    "dev": (
        "pipeline.commands.dev:dev",
        "A developer identity (did:key + Nostr), announce apps.",
    ),
}
LAZY_APP_COMMANDS = {
    "render": (
        "pipeline.commands.render:app_render",
        "Render APP (an id under apps/, or an app folder) to Quadlet units.",
    ),
    "validate": (
        "pipeline.commands.validate:app_validate",
        "Same as ``archy validate``: check manifests and policy.",
    ),
    "new": ("pipeline.commands.app:app_new", "Create APPS_DIR/ID/ from a template."),
    "run": ("pipeline.commands.app:app_run", "Install ID on a throwaway local node."),
    "test": ("pipeline.commands.app:app_test", "Put ID through the lifecycle gate."),
    "announce": (
        "pipeline.commands.dev:announce",
        "Announce a registry's apps on Nostr relays (= archy dev announce).",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="archipelago-registry", prog_name="archy")
def main() -> None:
    """Archipelago registry: validate, render, build, sign and publish apps."""


@main.group(cls=LazyGroup, lazy=LAZY_APP_COMMANDS)
def app() -> None:
    """App developer tools: create, validate, render, run and test one app."""


if __name__ == "__main__":
    main()
