"""What can be checked without a container engine answering: a slow engine, the Quadlet
engine's unit files (no systemd here: a recording systemctl stands in), hook sources."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from catalog.runtime_names import NETWORK_UNIT_FILE
from node_runtime.apply.hooks import canonical_hook_source
from node_runtime.apply.observe import observe_apps
from node_runtime.apply.outcome import ActionFailed
from node_runtime.apply.run import apply
from node_runtime.engines.container_engine import CommandResult, EngineTimeout
from node_runtime.engines.podman_engine import PodmanEngine
from node_runtime.engines.quadlet_engine import QuadletEngine, write_app_units
from node_runtime.store.paths import NodePaths
from tests.realparts.quadlet import quadlet_problems, require_quadlet, run_quadlet_dryrun
from tests.support.catalogs import catalog_of, simple_manifest

PS_JSON = (
    b'[{"Names": ["alpha"], "Id": "c1", "State": "running", "Pid": 0,'
    b' "Labels": {"archy.app": "alpha", "archy.member": "alpha"}}]'
)


class SlowEngineFake:
    """A fake podman runner for a fault this machine cannot cause on demand: an engine that
    answers once, then times out on every call (as a rootless store cleanup at boot does)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.slow = False

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        self.calls.append(list(args))
        if self.slow:
            raise EngineTimeout(f"`podman {args[0]}` did not answer within {timeout:g}s")
        if args[0] == "ps":
            return CommandResult(0, PS_JSON, b"")
        return CommandResult(0, b"", b"")


def test_a_slow_engine_keeps_the_last_known_app_list_and_apply_changes_nothing(
    tmp_path: Path,
) -> None:
    runner = SlowEngineFake()
    engine = PodmanEngine(runner)
    first = observe_apps(engine, tmp_path)
    assert first.apps == {"alpha": {"alpha": True}} and not first.stale
    runner.slow = True
    later = observe_apps(engine, tmp_path)
    assert later.stale and later.apps == {"alpha": {"alpha": True}}  # never "no apps"
    catalog = catalog_of([simple_manifest("alpha")])
    runner.calls.clear()
    report = apply(catalog, {"alpha"}, state_root=tmp_path, data_root="/srv/data", engine=engine)
    assert report.engine_slow is not None and "did not answer" in report.engine_slow
    assert report.results == {} and not report.ok
    assert [call[0] for call in runner.calls] == ["ps"]  # gave up at once, nothing changed
    assert not NodePaths(tmp_path).applied_file.exists()


class RecordingSystemctl:
    """No systemd user session exists here: this records what the Quadlet engine asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        self.calls.append(tuple(args))
        return CommandResult(0, b"", b"")


def test_quadlet_units_are_written_once_drop_ins_stay_and_a_prefix_app_keeps_its_units(
    tmp_path: Path,
) -> None:
    unit_dir = tmp_path / "systemd"
    foo = catalog_of([simple_manifest("foo", port=18001)]).apps["foo"]
    foo_bar = catalog_of([simple_manifest("foo-bar", port=18002)]).apps["foo-bar"]
    systemctl = RecordingSystemctl()
    engine = QuadletEngine(SlowEngineFake(), systemctl, unit_dir)
    engine.write_units("foo", foo.units)
    engine.write_units("foo-bar", foo_bar.units)
    drop_in = unit_dir / "archy-foo_foo.container.d" / "10-node.conf"
    drop_in.parent.mkdir()
    drop_in.write_text("[Container]\nEnvironment=NODE=1\n")
    assert systemctl.calls == [("daemon-reload",), ("daemon-reload",)]

    mtimes = {p.name: p.stat().st_mtime_ns for p in unit_dir.iterdir()}
    engine.write_units("foo", foo.units)  # same bytes: no write, no reload
    assert {p.name: p.stat().st_mtime_ns for p in unit_dir.iterdir()} == mtimes
    assert len(systemctl.calls) == 2

    engine.remove_units("foo")
    names = sorted(p.name for p in unit_dir.iterdir())
    assert names == [
        "archy-foo-bar_foo-bar.container", "archy-foo_foo.container.d", NETWORK_UNIT_FILE,
    ]  # fmt: skip
    assert drop_in.read_text() == "[Container]\nEnvironment=NODE=1\n"
    assert not [p for p in unit_dir.iterdir() if p.name.startswith(".tmp-")]


def test_the_real_quadlet_generator_accepts_the_written_unit_dir(tmp_path: Path) -> None:
    require_quadlet()
    catalog = catalog_of(
        [simple_manifest("alpha", secrets=["token"]), simple_manifest("beta", port=18081)]
    )
    for app_id, app in catalog.apps.items():
        write_app_units(tmp_path, app_id, app.units)
    stdout, stderr, status = run_quadlet_dryrun(tmp_path)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    assert "---archy-alpha_alpha.service---" in stdout
    assert "---archy-beta_beta.service---" in stdout


def test_copy_from_host_refuses_sources_outside_the_allowlist_and_symlink_escapes(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "hooks"
    (allowed / "dir").mkdir(parents=True)
    (allowed / "ok.txt").write_text("ok")
    (tmp_path / "secret.txt").write_text("no")
    os.symlink(tmp_path / "secret.txt", allowed / "escape.txt")
    os.symlink(tmp_path / "secret.txt", allowed / "dir" / "inner-escape")
    assert canonical_hook_source(str(allowed / "ok.txt"), [str(allowed)]) == str(allowed / "ok.txt")
    for source in (tmp_path / "secret.txt", allowed / "escape.txt", allowed / ".." / "secret.txt",
                   allowed / "dir"):  # fmt: skip
        with pytest.raises(ActionFailed):
            canonical_hook_source(str(source), [str(allowed)])
    with pytest.raises(ActionFailed, match="none configured"):
        canonical_hook_source(str(allowed / "ok.txt"), [])
