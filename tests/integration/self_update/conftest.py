"""Fixtures: a node-binary repository served over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.self_update.node_binary_repository import NodeBinaryRepository
from tests.support.tuf_fixtures import RepositoryServer


@pytest.fixture
def node_repository(tmp_path: Path) -> NodeBinaryRepository:
    return NodeBinaryRepository(tmp_path / "repository")


@pytest.fixture
def repository_server(node_repository: NodeBinaryRepository) -> Iterator[RepositoryServer]:
    server = RepositoryServer(node_repository.directory)
    yield server
    server.close()
