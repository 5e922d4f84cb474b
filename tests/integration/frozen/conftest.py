"""Fixtures: the frozen binary (built once per session, cached across sessions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.self_update.node_binary_repository import NodeBinaryRepository
from tests.support.frozen_build import frozen_binary
from tests.support.tuf_fixtures import RepositoryServer


@pytest.fixture(scope="session")
def archy_node_binary() -> Path:
    return frozen_binary()


@pytest.fixture
def node_repository(tmp_path: Path) -> NodeBinaryRepository:
    return NodeBinaryRepository(tmp_path / "repository")


@pytest.fixture
def repository_server(node_repository: NodeBinaryRepository) -> Iterator[RepositoryServer]:
    server = RepositoryServer(node_repository.directory)
    yield server
    server.close()
