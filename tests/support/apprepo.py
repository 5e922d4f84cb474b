"""Small git repositories of apps for the build tests, made with GitPython.

Every commit gets an explicit author and committer date, so a test knows
exactly which time the catalog must carry.
"""

from __future__ import annotations

from pathlib import Path

import git

ICON = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8"/></svg>\n'


def manifest_text(
    app_id: str,
    *,
    version: str = "1.0.0",
    revision: int = 1,
    port: int = 18080,
    image: str = "127.0.0.1:5000/demo/web:1.0",
    summary: str = "A demo web app",
    build: bool = False,
) -> str:
    build_line = "    build: {context: build}\n" if build else ""
    return f"""\
schema: 1
id: {app_id}
name: Demo {app_id}
version: "{version}"
revision: {revision}
summary: {summary}
description: Serves a page.
category: developer
license: MIT
homepage: https://example.org/{app_id}
source: https://example.org/{app_id}/src
architectures: [amd64, arm64]
containers:
  - name: {app_id}
    image: {image}
{build_line}    env:
      MODE: production
    ports:
      - container: 8080
        host: {port}
        expose: lan
    volumes:
      - name: data
        path: /www
    health:
      http: {{port: 8080, path: /}}
ui: {{container: {app_id}, port: 8080}}
"""


class AppRepo:
    """A git repository with an apps/ folder; ``commit`` stamps a fixed date."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Archy Test")
            config.set_value("user", "email", "test@example.invalid")

    def write(self, relative: str, data: str | bytes) -> Path:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def add_app(self, app_id: str, **fields: object) -> None:
        self.write(f"apps/{app_id}/manifest.yml", manifest_text(app_id, **fields))  # type: ignore[arg-type]
        self.write(f"apps/{app_id}/icon.svg", ICON)

    def commit(self, message: str, date: str = "2024-05-01T12:00:00+00:00") -> str:
        self.repo.git.add("--all")
        environment = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        self.repo.git.commit("--allow-empty", "-m", message, env=environment)
        return self.repo.head.commit.hexsha
