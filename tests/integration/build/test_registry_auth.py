"""``archy images lock`` against docker-registry with ``auth: token:`` and our token service.

The registry answers 401 with a Bearer challenge; the client asks the realm
for a token for the repository's pull scope and retries with it.  The token
service signs ES256 JWTs with a key whose certificate the registry trusts.
When the token is signed by another key, is expired, or the service is down,
the command fails with one line per image and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.imagelock import read_lock_file
from tests.realparts.podman_user import RootlessPodman
from tests.realparts.registry import TokenRegistry, push_image, token_registry
from tests.support.apprepo import AppRepo

pytestmark = pytest.mark.integration

__all__ = ["token_registry"]  # the fixture, imported for this module's tests


@pytest.fixture
def pushed(
    token_registry: TokenRegistry,
    rootless_podman: RootlessPodman,
    busybox_image: str,
    tmp_path: Path,
) -> tuple[TokenRegistry, AppRepo, str]:
    """busybox pushed through the token flow, and a repo with one app using it."""
    digest = push_image(rootless_podman, busybox_image, token_registry.registry, "demo/web:1.0")
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-0", port=18100, image=token_registry.registry.ref("demo/web", "1.0"))
    source.commit("apps")
    return token_registry, source, digest


def lock(source: AppRepo, *extra: str) -> Result:
    return CliRunner().invoke(main, ["images", "lock", "--repo", str(source.path), *extra])


def test_the_lock_resolves_digests_through_the_challenge_token_retry_flow(
    pushed: tuple[TokenRegistry, AppRepo, str],
) -> None:
    registry, source, digest = pushed
    registry.tokens.requests.clear()

    result = lock(source, "--require-digests")

    assert result.exit_code == 0, result.output
    reference = registry.registry.ref("demo/web", "1.0")
    locked = read_lock_file(source.path / "images.lock.json").images[reference]
    assert locked.digest == digest
    assert locked.platforms == {"amd64": digest}
    # one token for the repository's pull scope, reused for the manifest and the config blob
    assert registry.tokens.requests == [
        {"scope": ["repository:demo/web:pull"], "service": ["archy-test-registry"]}
    ]


@pytest.mark.parametrize("mode", ["wrong-key", "expired", "down"])
def test_a_bad_token_or_a_missing_token_service_is_one_clear_line_and_nothing_written(
    pushed: tuple[TokenRegistry, AppRepo, str], mode: str
) -> None:
    registry, source, _digest = pushed
    if mode == "down":
        registry.tokens.stop()
    else:
        registry.tokens.mode = mode

    result = lock(source)  # even without --require-digests: auth failures always refuse

    assert result.exit_code == 1
    assert not (source.path / "images.lock.json").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    (error,) = errors
    assert registry.registry.ref("demo/web", "1.0") in error
    assert registry.tokens.realm in error
    if mode == "down":
        assert "cannot reach the token service" in error
    else:
        assert "the registry refused the token" in error
        assert "HTTP 401" in error
    assert "Traceback" not in result.output
