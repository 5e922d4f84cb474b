"""The attacks of issue 12 on the manifest contract, each as the attacker wrote it, now refused.

Finding 1: a member mounts its app's data dir itself plus an ordinary volume
inside it, so its container can swap the inner dir for a symlink.  Finding 4:
derived names joined with ``-`` let ``bitcoin-core-bitcoin`` take
bitcoin-core's RPC password and ``core`` overwrite core-lightning's unit.
Finding 8: ``archy validate`` passed what ``archy app render`` then refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog.loader import ManifestSource
from catalog.runtime_names import member_unit_name, podman_secret_name
from catalog.runtime_spec import app_runtime_specs
from pipeline import crossapp
from pipeline.appset import load_app_folder
from pipeline.policy import check_all
from pipeline.render import render_app
from tests.unit.policy.cases import DIGEST, manifest_text, source_of

REPO = Path(__file__).resolve().parents[3]
IMAGE = f"docker.io/library/busybox:1.36.1{DIGEST}"


def archy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        check=False,
        timeout=120,
    )


def write_app(apps: Path, app_id: str, rest: str) -> Path:
    folder = apps / app_id
    folder.mkdir(parents=True)
    (folder / "manifest.yml").write_text(manifest_text(app_id, rest), encoding="utf-8")
    return folder


# -- finding 1: the data dir itself, with a volume inside it ---------------------------------

ESCAPE = f"""\
containers:
  - name: escape
    image: {IMAGE}
    volumes:
      - name: root
        path: /appdata
        host_path: {{host_path}}
      - name: config
        path: /config
"""


@pytest.mark.parametrize(
    "host_path",
    [
        "/var/lib/archipelago/escape",
        "/var/lib/archipelago/escape/",
        "//var/lib/archipelago/./escape",
    ],
)
def test_mounting_the_data_dir_itself_and_a_volume_inside_it_is_refused_by_validate(
    tmp_path: Path, host_path: str
) -> None:
    write_app(tmp_path / "apps", "escape", ESCAPE.format(host_path=host_path))
    line = ESCAPE.splitlines().index("        host_path: {host_path}") + 1
    line += manifest_text("escape", "").count("\n")

    result = archy(tmp_path, "validate", "apps/escape")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        f"apps/escape/manifest.yml:{line}: containers[0].volumes[0].host_path: host path "
        "/var/lib/archipelago/escape is the app's data dir itself, which holds the node's "
        "files for the app and every other volume; mount a sub-directory (leave host_path "
        "out: the volume name is the sub-directory) (P021)"
    ) in result.stderr.splitlines()
    assert "1 apps checked: 1 errors" in result.stdout
    rendered = archy(tmp_path, "app", "render", "apps/escape")
    assert rendered.returncode == 1 and "(P021)" in rendered.stderr
    assert "Traceback" not in rendered.stderr


def test_a_volume_inside_another_members_volume_is_refused_across_members(
    tmp_path: Path,
) -> None:
    write_app(
        tmp_path / "apps",
        "nested",
        f"""\
containers:
  - name: nested-web
    image: {IMAGE}
    volumes:
      - {{name: data, path: /data}}
  - name: nested-worker
    image: {IMAGE}
    volumes:
      - {{name: inner, path: /inner, host_path: /var/lib/archipelago/nested/data/inner}}
""",
    )
    result = archy(tmp_path, "validate", "apps/nested")
    assert result.returncode == 1, result.stdout
    refusals = [line for line in result.stderr.splitlines() if line.endswith("(P021)")]
    assert [line.split(": ")[:2] for line in refusals] == [
        ["apps/nested/manifest.yml:17", "containers[0].volumes[0].name"],
        ["apps/nested/manifest.yml:21", "containers[1].volumes[0].host_path"],
    ]
    assert "holds /var/lib/archipelago/nested/data/inner" in refusals[0]


# -- finding 4: names that collided ------------------------------------------------------------


def _real_app(app_id: str) -> ManifestSource:
    return load_app_folder(REPO / "apps" / app_id).source


def test_an_app_named_bitcoin_core_bitcoin_does_not_get_bitcoin_cores_rpc_password() -> None:
    bitcoin_core = _real_app("bitcoin-core")
    hostile = source_of(
        manifest_text(
            "bitcoin-core-bitcoin",
            f"""\
containers:
  - name: thief
    image: {IMAGE}
    env: {{STOLEN: {{secret: rpc-password}}}}
generated_secrets:
  - name: rpc-password
""",
        ),
        "apps/bitcoin-core-bitcoin/manifest.yml",
    )
    # With '-' both were archy-bitcoin-core-bitcoin-rpc-password.
    theirs = podman_secret_name("bitcoin-core", "bitcoin-rpc-password")
    mine = podman_secret_name("bitcoin-core-bitcoin", "rpc-password")
    assert (theirs, mine) == (
        "archy-bitcoin-core_bitcoin-rpc-password",
        "archy-bitcoin-core-bitcoin_rpc-password",
    )
    [thief] = app_runtime_specs(hostile.manifest)
    assert [secret.secret_name for secret in thief.secrets] == [mine]
    assert not [p for p in check_all([bitcoin_core, hostile]) if p.rule == "P022"]


def test_an_app_named_core_with_member_lightning_lightningd_keeps_off_core_lightnings_unit() -> (
    None
):
    core_lightning = _real_app("core-lightning")
    hostile = source_of(
        manifest_text("core", f"containers:\n  - name: lightning-lightningd\n    image: {IMAGE}\n"),
        "apps/core/manifest.yml",
    )
    # With '-' both were archy-core-lightning-lightningd.container.
    assert member_unit_name("core-lightning", "lightningd") == "archy-core-lightning_lightningd"
    assert member_unit_name("core", "lightning-lightningd") == "archy-core_lightning-lightningd"
    assert set(render_app(hostile)).isdisjoint(
        name for name in render_app(core_lightning) if name != "archy-net.network"
    )
    assert not [p for p in check_all([core_lightning, hostile]) if p.rule == "P022"]


def test_a_container_named_after_another_apps_unit_is_refused_in_both_files() -> None:
    core_lightning = _real_app("core-lightning")
    hostile = source_of(
        manifest_text(
            "core", f"containers:\n  - name: archy-core-lightning_lightningd\n    image: {IMAGE}\n"
        ),
        "apps/core/manifest.yml",
    )
    clashes = [str(p) for p in check_all([core_lightning, hostile]) if p.rule == "P022"]
    assert clashes == [
        "apps/core-lightning/manifest.yml:24: containers[0].name: its unit name "
        "'archy-core-lightning_lightningd' is also the container name of 'core' "
        "(apps/core/manifest.yml:14); the node would take one app's unit, container or "
        "secret for the other's: rename the member or the secret (P022)",
        "apps/core/manifest.yml:14: containers[0].name: its container name "
        "'archy-core-lightning_lightningd' is also the unit name of 'core-lightning' "
        "(apps/core-lightning/manifest.yml:24); the node would take one app's unit, "
        "container or secret for the other's: rename the member or the secret (P022)",
    ]


def test_the_cross_app_rule_refuses_the_old_colliding_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fake: the old '-' naming put back, since the real one can no longer collide."""
    lnd = _real_app("lnd")
    hostile = source_of(
        manifest_text(
            "lnd-lnd",
            f"containers:\n  - name: thief\n    image: {IMAGE}\n"
            "    env: {STOLEN: {secret: wallet-password}}\n"
            "generated_secrets:\n  - name: wallet-password\n",
        ),
        "apps/lnd-lnd/manifest.yml",
    )
    monkeypatch.setattr(crossapp, "podman_secret_name", lambda app, name: f"archy-{app}-{name}")
    clashes = [p for p in check_all([lnd, hostile]) if p.rule == "P022"]
    assert {(p.file, p.field) for p in clashes} == {
        ("apps/lnd/manifest.yml", "generated_secrets[0].name"),
        ("apps/lnd-lnd/manifest.yml", "generated_secrets[0].name"),
    }
    assert all("'archy-lnd-lnd-wallet-password'" in p.message for p in clashes)


# -- finding 8: validate says what render says ------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "field", "message"),
    [
        (
            "{name: config, path: /config, host_path: config}",
            "host_path",
            "host_path 'config' is relative; write the absolute path, or leave host_path out "
            "(the volume name is the sub-directory of the app's data dir) (P003)",
        ),
        (
            "{name: data, path: /data%h}",
            "path",
            "path '/data%h' may use only letters, digits and . _ @ + = ~ / - (':' and ',' "
            "would split the volume option, '%' is a systemd specifier, spaces and quotes "
            "would need a shell); rename the path (P023)",
        ),
    ],
)
def test_what_render_refuses_validate_refuses_first(
    tmp_path: Path, volume: str, field: str, message: str
) -> None:
    write_app(
        tmp_path / "apps",
        "demo",
        f"containers:\n  - name: demo\n    image: {IMAGE}\n    volumes:\n      - {volume}\n",
    )
    expected = f"apps/demo/manifest.yml:17: containers[0].volumes[0].{field}: {message}"
    validated = archy(tmp_path, "validate", "apps/demo")
    rendered = archy(tmp_path, "app", "render", "apps/demo")
    assert (validated.returncode, rendered.returncode) == (1, 1)
    assert expected in validated.stderr.splitlines()
    assert expected in rendered.stderr.splitlines()
    assert "Traceback" not in validated.stderr + rendered.stderr


def test_mounting_the_data_root_is_refused_once_and_not_again_per_other_app() -> None:
    root_reader = source_of(
        manifest_text(
            "reader",
            f"containers:\n  - name: reader\n    image: {IMAGE}\n    volumes:\n"
            "      - {name: all, path: /all, read_only: true, host_path: /var/lib/archipelago}\n"
            "permissions:\n  host_paths: [/var/lib/archipelago]\n",
        ),
        "apps/reader/manifest.yml",
    )
    neighbour = source_of(
        manifest_text(
            "neighbour",
            f"containers:\n  - name: neighbour\n    image: {IMAGE}\n"
            "    volumes:\n      - {name: data, path: /data}\n",
        ),
        "apps/neighbour/manifest.yml",
    )
    refusals = [str(p) for p in check_all([root_reader, neighbour]) if p.severity == "error"]
    assert refusals == [
        "apps/reader/manifest.yml:17: containers[0].volumes[0].host_path: host path "
        "/var/lib/archipelago holds the data dir of every app (/var/lib/archipelago); mount a "
        "sub-directory of the app's own data dir (P021)"
    ]


def test_an_icon_the_build_would_refuse_is_reported_by_validate(tmp_path: Path) -> None:
    folder = write_app(
        tmp_path / "apps", "demo", f"containers:\n  - name: demo\n    image: {IMAGE}\n"
    )
    (folder / "icon.svg").write_text("<html>not an icon</html>")
    expected = (
        "apps/demo/manifest.yml:1: icon: apps/demo/icon.svg: is not an SVG document; "
        "export the icon as SVG"
    )
    publishing = archy(tmp_path, "validate", "--require-digests", "apps/demo")
    assert publishing.returncode == 1
    assert expected in publishing.stderr.splitlines()
    developing = archy(tmp_path, "validate", "apps/demo")  # the dev build leaves it out
    assert developing.returncode == 0
    assert f"warning: {expected}" in developing.stderr.splitlines()
    (folder / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert archy(tmp_path, "validate", "--require-digests", "apps/demo").returncode == 0
