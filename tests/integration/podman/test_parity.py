"""The podman backend runs every member exactly as the Quadlet units do.

For every app in apps/: the options of the ``podman run`` line that the real
Quadlet generator writes into ``ExecStart=`` (read back as systemd reads it)
equal the options of ``node_runtime.engines.podman_args.run_arguments``, apart from
what only one side needs: systemd's ``--cidfile``, ``--sdnotify``,
``--cgroups``, ``--replace``, ``--rm`` and ``-d``; the backend's
``--restart`` and ``--detach``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.manifest import Manifest
from catalog.runtime_spec import app_runtime_specs
from catalog.systemd_syntax import parse_unit, split_command_line
from node_runtime.engines.podman_args import network_create_arguments, run_arguments
from pipeline.appset import find_app_folders, load_app_folder
from pipeline.render import render_app, service_name, write_units
from tests.integration.render.test_escaping import split_dryrun
from tests.realparts import REPO_ROOT
from tests.realparts.quadlet import quadlet_problems, run_quadlet_dryrun
from tests.support.app_manifests import manifest

pytestmark = pytest.mark.integration

APP_FOLDERS = find_app_folders([REPO_ROOT / "apps"])
TEST_APP_FOLDERS = find_app_folders([REPO_ROOT / "tests" / "apps"])
SPECIFIERS = {"t": "/run/user/1000", "N": "unit"}

FLAGS_WITHOUT_VALUE = {"--detach", "--replace", "--rm", "--read-only", "--init"}
SHORT_FLAGS = {"-d": "--detach", "-v": "--volume", "-p": "--publish", "-e": "--env"}
ONLY_UNDER_SYSTEMD = {"--cidfile", "--sdnotify", "--cgroups", "--replace", "--rm", "--detach"}
ONLY_WITHOUT_SYSTEMD = {"--restart", "--detach"}


def container_options(run_argv: list[str], ignored: set[str]) -> tuple[list[str], list[str]]:
    """(sorted ``--flag=value`` options, [image, *command]) of ``run …`` arguments."""
    assert run_argv[0] == "run", run_argv
    options: list[str] = []
    index = 1
    while index < len(run_argv) and run_argv[index].startswith("-"):
        word = run_argv[index]
        name, equals, value = word.partition("=")
        name = SHORT_FLAGS.get(name, name)
        if not equals and name not in FLAGS_WITHOUT_VALUE:
            index += 1
            value = run_argv[index]
        if name not in ignored:
            options.append(
                f"{name}={value}" if (equals or name not in FLAGS_WITHOUT_VALUE) else name
            )
        index += 1
    return sorted(options), run_argv[index:]


def quadlet_exec_starts(unit_dir: Path) -> dict[str, list[str]]:
    """{service: argv after /usr/bin/podman} of every unit the generator produced."""
    stdout, stderr, returncode = run_quadlet_dryrun(unit_dir)
    assert returncode == 0 and quadlet_problems(stderr) == [], stderr
    result = {}
    for name, text in split_dryrun(stdout).items():
        [line] = [
            e.value for e in parse_unit(text) if e.section == "Service" and e.key == "ExecStart"
        ]
        argv = split_command_line(line, SPECIFIERS)
        assert argv[0] == "/usr/bin/podman"
        result[name] = argv[1:]
    return result


def assert_same_containers(manifest_model: Manifest, unit_dir: Path) -> None:
    write_units(render_app(manifest_model), unit_dir)
    generated = quadlet_exec_starts(unit_dir)
    assert generated.pop("archy-net-network.service") == network_create_arguments()
    for spec in app_runtime_specs(manifest_model):
        quadlet_side = container_options(
            generated.pop(service_name(spec.app_id, spec.name)), ONLY_UNDER_SYSTEMD
        )
        backend_side = container_options(run_arguments(spec), ONLY_WITHOUT_SYSTEMD)
        assert backend_side == quadlet_side, spec.name
    assert generated == {}


@pytest.mark.parametrize("folder", APP_FOLDERS + TEST_APP_FOLDERS, ids=lambda folder: folder.name)
def test_the_backend_runs_each_member_as_quadlet_does(
    quadlet_bin: Path, tmp_path: Path, folder: Path
) -> None:
    assert_same_containers(load_app_folder(folder).source.manifest, tmp_path)


def test_parity_covers_every_field_the_renderer_knows(quadlet_bin: Path, tmp_path: Path) -> None:
    app = manifest(
        db={"env": {"PASSWORD": {"secret": "db-password"}}, "health": {"tcp": {"port": 5432}}},
        web={
            "entrypoint": ["/bin/sh", "-c"],
            "command": ["echo '%s' \"$HOME\" \\ done", "argv0"],
            "env": {"A": "line\nbreak", "B": "100% $PATH"},
            "ports": [{"container": 80, "host": 8080, "expose": "lan"}, {"container": 81}],
            "volumes": [{"name": "d", "path": "/d", "read_only": True}],
            "health": {"http": {"port": 80, "path": "/a?b=$x&c=%20"}},
            "depends_on": ["db"],
            "user": "1000:1000",
            "read_only_rootfs": True,
            "cap_add": ["CHOWN"],
            "devices": ["/dev/dri"],
            "resources": {"memory": "256m", "cpus": "0.5", "pids": 64},
        },
    )
    assert_same_containers(app, tmp_path)


def test_the_normaliser_sees_values_and_flags() -> None:
    assert container_options(
        ["run", "-d", "--name", "x", "--read-only", "-v", "a:b", "--env=A=b", "img", "c"], set()
    ) == (["--detach", "--env=A=b", "--name=x", "--read-only", "--volume=a:b"], ["img", "c"])
