"""Onion services under the Quadlet and stage engines: the file lands where the tor app's
generated service reads it, checked with the real Quadlet generator.

No systemd and no tor image here: the Quadlet engine's units go through the real
generator; the member addresses and tor's reload come from a stand-in for podman
(named as such) that answers ``inspect`` with an address and records ``kill``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from catalog.manifest import Manifest
from catalog.systemd_syntax import split_words
from node_runtime.apply.onion_sync import keys_dir, services_file
from node_runtime.apply.outcome import ApplyReport, AppResult
from node_runtime.apply.run import apply, sync_onion_services_of
from node_runtime.engines.container_engine import CommandResult
from node_runtime.engines.quadlet_engine import QuadletEngine
from node_runtime.engines.stage_engine import StageEngine
from node_runtime.plan.onion_services import WAITING, service_dir
from tests.realparts import REPO_ROOT
from tests.realparts.quadlet import (
    parse_dryrun,
    quadlet_problems,
    require_quadlet,
    run_quadlet_dryrun,
    unit_values,
)
from tests.support.catalogs import catalog_of, manifest_from_folder, simple_manifest

WEB_PORT = 18480


def web_with_tor_port() -> Manifest:
    document = simple_manifest("web").to_document()
    document["containers"][0]["ports"] = [{"container": 8080, "host": WEB_PORT, "expose": "tor"}]
    return Manifest.model_validate(document)


class PodmanStandIn:
    """Stands in for podman (no container runs here): members have addresses, kill works."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        self.calls: list[list[str]] = []

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        self.calls.append(list(args))
        if args[0] == "inspect" and args[-1] in self.addresses:
            return CommandResult(0, f"{self.addresses[args[-1]]} \n".encode(), b"")
        if args[0] == "inspect":
            return CommandResult(125, b"", b"Error: no such container")
        return CommandResult(0, b"", b"")


class RecordingSystemctl:
    """No systemd user session exists here: records what the engine asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        self.calls.append(tuple(args))
        return CommandResult(0, b"", b"")


def tor_reads(unit_dir: Path) -> tuple[str, list[str], dict[str, str]]:
    """From the generated tor service: the file tor is told to read (``-f``), the web
    service's published ports, and tor's volumes {container path: host path}."""
    stdout, stderr, status = run_quadlet_dryrun(unit_dir)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    services = parse_dryrun(stdout)
    [tor_start] = unit_values(services["archy-tor_tor.service"], "Service", "ExecStart")
    argv = split_words(tor_start)
    torrc = argv[argv.index("-f") + 1]
    volumes = {}
    for index, word in enumerate(argv):
        if word in ("-v", "--volume"):
            host, container = argv[index + 1].split(":")[:2]
            volumes[container] = host
    [web_start] = unit_values(services["archy-web_web.service"], "Service", "ExecStart")
    web_argv = split_words(web_start)
    published = [web_argv[i + 1] for i, w in enumerate(web_argv) if w == "--publish"]
    return torrc, published, volumes


def assert_tor_reads_the_file(unit_dir: Path, data_root: str) -> None:
    torrc, published, volumes = tor_reads(unit_dir)
    folder, _, name = torrc.rpartition("/")
    assert Path(volumes[folder]) / name == services_file(data_root)
    # HiddenServiceDir /var/lib/tor/onion-web is the dir status reads the address from
    data_dir, _, onion = service_dir("web").rpartition("/")
    assert Path(volumes[data_dir]) / onion == keys_dir("web", data_root)
    assert published == [f"127.0.0.1:{WEB_PORT}:8080/tcp"]  # reachable by tor, not the LAN


def test_under_quadlet_the_services_file_lands_where_the_generated_tor_unit_reads_it(
    tmp_path: Path,
) -> None:
    require_quadlet()
    data_root = str(tmp_path / "data")
    unit_dir = tmp_path / "systemd"
    tor = manifest_from_folder(REPO_ROOT / "apps/tor")
    catalog = catalog_of([tor, web_with_tor_port()], data_root)
    podman = PodmanStandIn({"web": "10.89.0.7"})
    engine = QuadletEngine(podman, RecordingSystemctl(), unit_dir)
    for app_id, app in catalog.apps.items():
        engine.write_units(app_id, app.units)
    services_file(data_root).parent.mkdir(parents=True)  # the apply made tor's volume dirs

    report = ApplyReport(engine.name, {"tor": AppResult("tor", "ok")})
    sync_onion_services_of(catalog, {"tor", "web"}, data_root, engine, report)
    assert report.results["tor"].warnings == ()
    assert services_file(data_root).read_text().splitlines()[2:] == [
        "HiddenServiceDir /var/lib/tor/onion-web",
        f"HiddenServicePort {WEB_PORT} 10.89.0.7:8080",
    ]
    assert ["kill", "--signal", "HUP", "tor"] in podman.calls  # tor reloads its config
    assert_tor_reads_the_file(unit_dir, data_root)


def test_the_stage_engine_writes_the_services_file_with_every_app_waiting(
    tmp_path: Path,
) -> None:
    require_quadlet()
    data_root = str(tmp_path / "data")
    unit_dir = tmp_path / "staged"
    tor = manifest_from_folder(REPO_ROOT / "apps/tor")
    catalog = catalog_of([tor, web_with_tor_port()])
    report = apply(catalog, {"tor", "web"}, state_root=tmp_path / "state",
                   data_root=data_root, engine=StageEngine(unit_dir))  # fmt: skip
    assert {r.status for r in report.results.values()} == {"staged"}, report
    assert all("the stage engine maps no uids" in w for w in report.results["tor"].warnings)
    # nothing runs, so no address: web is named, left out until it runs (tor would refuse
    # a service without a port); the file is where tor reads it once its unit starts
    assert services_file(data_root).read_text().splitlines()[2:] == [f"# web: {WAITING}"]
    assert_tor_reads_the_file(unit_dir, data_root)

    # uninstalling web takes it out of the file
    apply(catalog, {"tor"}, state_root=tmp_path / "state", data_root=data_root,
          engine=StageEngine(unit_dir))  # fmt: skip
    assert services_file(data_root).read_text().splitlines()[2:] == []
