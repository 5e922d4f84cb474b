"""Real parts for the marketplace tests: a nostr-sdk LocalRelay on 127.0.0.1, a developer
identity made by the production code, and the developer's one-app registry published to a
file origin by the production publisher."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime as DateTime
from pathlib import Path

import pytest
from click.testing import CliRunner
from nostr_sdk import (
    ClientBuilder,
    EventBuilder,
    Keys,
    Kind,
    LocalRelay,
    LocalRelayBuilder,
    RelayUrl,
    Tag,
    Timestamp,
)

from catalog.announcement import AppAnnouncement
from pipeline.ceremony.keystore import KdfCost
from pipeline.cli import main as archy_main
from pipeline.market.announce import announcements
from pipeline.market.dev_registry import PublishedRegistry, publish_developer_registry
from pipeline.market.identity import DeveloperIdentity, create_identity, open_identity

PASSPHRASE = b"a long test passphrase 4 market"


async def _start_relay() -> tuple[LocalRelay, str]:
    relay = LocalRelayBuilder().addr("127.0.0.1").build()
    await relay.run()
    return relay, str(await relay.url())


@pytest.fixture
def relay_url() -> Iterator[str]:
    """A real Nostr relay (nostr-sdk's LocalRelay, in memory) on 127.0.0.1."""
    relay, url = asyncio.run(_start_relay())
    assert url.startswith("ws://127.0.0.1:")
    yield url
    relay.shutdown()


@pytest.fixture
def second_relay_url() -> Iterator[str]:
    """Another relay, independent of the first (it may serve other events)."""
    relay, url = asyncio.run(_start_relay())
    yield url
    relay.shutdown()


def send_event(
    url: str,
    keys: Keys,
    content: str,
    tags: list[list[str]],
    kind: int = 30078,
    created_at: int | None = None,
) -> str:
    """Sign (nostr-sdk, schnorr) and send one event; return its id."""
    builder = EventBuilder(Kind(kind), content).tags([Tag.parse(tag) for tag in tags])
    if created_at is not None:
        builder = builder.custom_created_at(Timestamp.from_secs(created_at))
    event = builder.finalize(keys)

    async def send() -> None:
        client = ClientBuilder().build()
        await client.add_relay(RelayUrl.parse(url))
        await client.connect(datetime.timedelta(seconds=5))
        output = await client.send_event(event)
        await client.shutdown()
        assert output.success, output.failed

    asyncio.run(send())
    return str(event.id().to_hex())


def keys_of(identity: DeveloperIdentity) -> Keys:
    return Keys.parse(identity.nostr_secret_hex)


@pytest.fixture(scope="session")
def developer(tmp_path_factory: pytest.TempPathFactory) -> DeveloperIdentity:
    directory = tmp_path_factory.mktemp("developer") / "identity"
    create_identity(directory, PASSPHRASE, KdfCost.INTERACTIVE)
    return open_identity(directory, PASSPHRASE)


@pytest.fixture(scope="session")
def other_developer(tmp_path_factory: pytest.TempPathFactory) -> DeveloperIdentity:
    directory = tmp_path_factory.mktemp("other") / "identity"
    create_identity(directory, PASSPHRASE, KdfCost.INTERACTIVE)
    return open_identity(directory, PASSPHRASE)


def new_app(apps_dir: Path, app_id: str) -> Path:
    result = CliRunner().invoke(
        archy_main, ["app", "new", app_id, "--template", "web", "--apps-dir", str(apps_dir)]
    )
    assert result.exit_code == 0, result.output
    return apps_dir / app_id


@dataclass(frozen=True)
class Registry:
    published: PublishedRegistry
    origin: str
    identity: DeveloperIdentity


def publish(tmp: Path, identity: DeveloperIdentity, app_id: str = "demo-notes") -> Registry:
    folder = new_app(tmp / "apps", app_id)
    published = publish_developer_registry(folder, identity.signer, tmp / "repo", DateTime.now(UTC))
    return Registry(published, (tmp / "repo").as_uri(), identity)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, developer: DeveloperIdentity) -> Registry:
    """The developer's one-app registry on a file origin, every entry did:key-signed."""
    return publish(tmp_path_factory.mktemp("registry"), developer)


def announcement(registry: Registry, name: str = "devreg") -> AppAnnouncement:
    """The announcement of the registry's one app, made by the production code."""
    [only] = announcements(
        registry.published.catalog_bytes,
        registry.published.root_file.read_bytes(),
        name,
        [registry.origin],
        registry.identity.public,
    )
    return only


def send_announcement(
    url: str, content: AppAnnouncement, keys: Keys, created_at: int | None = None
) -> str:
    tags = [["d", content.d_tag()], ["t", "archy-app"]]
    return send_event(url, keys, content.content(), tags, created_at=created_at)
