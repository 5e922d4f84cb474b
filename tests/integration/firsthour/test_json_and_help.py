"""Issue 21: ``--json`` on the commands a script calls, ``archy-node --version``, and the
``archy-node tuf`` help and first-run refusals.  Each runs in a child process, stdout a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.ceremony.steps import open_catalog_event
from tests.support.ceremony_setup import NOW, PASSPHRASE, make_ceremony
from tests.support.small_build import SmallApp, write_build

REPO = Path(__file__).resolve().parents[3]
ENV = {
    "PYTHONPATH": str(REPO),
    "PATH": "/usr/bin:/bin",
    "ARCHY_TEST_PASSPHRASE": PASSPHRASE.decode(),
    "ARCHY_NEW_PASSPHRASE": "lantern-orbit-velvet-88",
}


def run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
        timeout=120,
    )


def archy(*args: str) -> subprocess.CompletedProcess[str]:
    return run("pipeline.cli", *args)


def archy_node(*args: str) -> subprocess.CompletedProcess[str]:
    return run("node_runtime", *args)


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)  # stdout is the JSON document and nothing else
    assert isinstance(document, dict)
    return document


PASS = ("--passphrase-env", "ARCHY_TEST_PASSPHRASE")
NEW = ("--passphrase-env", "ARCHY_NEW_PASSPHRASE")


def test_keygen_and_init_print_json(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    made = {}
    for name in ("alice", "online"):
        result = archy(
            "ceremony", "keygen", "--out", str(keys / f"{name}.key"), "--kdf-cost",
            "interactive", *NEW, "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        made[name] = json_of(result)
    assert made["alice"]["public_key_file"] == f"{keys / 'alice.key'}.pub"
    assert "lantern" not in json.dumps(made)

    init = archy(
        "ceremony", "init", "--dir", str(tmp_path / "ceremony"), "--root-key",
        str(keys / "alice.key"), "--targets-key", f"{keys / 'alice.key'}.pub", "--online-key",
        f"{keys / 'online.key'}.pub", *NEW, "--json",
    )  # fmt: skip

    assert init.returncode == 0, init.stderr
    document = json_of(init)
    assert document["ok"] is True
    assert document["root"] == str(tmp_path / "ceremony/metadata/1.root.json")
    again = archy(
        "ceremony", "init", "--dir", str(tmp_path / "ceremony"), "--root-key",
        str(keys / "alice.key"), "--targets-key", f"{keys / 'alice.key'}.pub", "--online-key",
        f"{keys / 'online.key'}.pub", *NEW, "--json",
    )  # fmt: skip
    assert again.returncode == 1
    assert json_of(again)["ok"] is False  # a refusal is JSON too


def test_sign_publish_and_refresh_timestamp_print_json(tmp_path: Path) -> None:
    ceremony = make_ceremony(tmp_path)
    dist = tmp_path / "dist"
    write_build(dist, [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, dist, NOW)
    directory = str(ceremony.state.path)
    signed = []
    for name in ("alice", "bob"):
        result = archy(
            "ceremony", "sign", "--dir", directory, "--key", str(ceremony.key_files[name]),
            "--yes", *PASS, "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        signed.append(json_of(result))
    assert [s["threshold_met"] for s in signed] == [False, True]
    assert signed[1]["event_id"] == event.event_id
    assert "+ demo-web 1.0.0-r1 (new app)" in signed[0]["review"]

    origin = tmp_path / "origin"
    online = ("--online-key", str(ceremony.key_files["online"]), *PASS)
    published = archy(
        "publish", "--to", f"file://{origin}", "--ceremony", directory, "--dist", str(dist),
        *online, "--json",
    )  # fmt: skip
    refreshed = archy(
        "refresh-timestamp", "--to", f"file://{origin}", "--ceremony", directory, *online,
        "--json",
    )  # fmt: skip

    assert published.returncode == 0, published.stderr
    document = json_of(published)
    assert (document["targets_version"], document["ok"]) == (1, True)
    assert document["storefront"]["index"].endswith("index.html")  # type: ignore[index]
    assert refreshed.returncode == 0, refreshed.stderr
    assert json_of(refreshed)["timestamp_version"] == 2


def test_app_render_prints_json(tmp_path: Path) -> None:
    result = archy("app", "render", "immich", "--apps-dir", str(REPO / "apps"), "--json")
    missing = archy("app", "render", "no-such-app", "--apps-dir", str(REPO / "apps"), "--json")

    assert result.returncode == 0, result.stderr
    document = json_of(result)
    units = document["units"]
    assert isinstance(units, dict) and any(name.endswith(".container") for name in units)
    assert missing.returncode == 1
    assert json_of(missing)["ok"] is False


def test_archy_node_version_option() -> None:
    result = archy_node("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("archy-node ")
    assert result.stdout == archy_node("version").stdout


def test_self_update_check_json_from_a_checkout_is_json() -> None:
    result = archy_node("self-update", "--check", "--json", "--state-root", "/nonexistent")
    assert result.returncode == 1
    document = json_of(result)
    assert document["ok"] is False
    assert "pass --binary PATH" in str(document["error"])


def test_tuf_refresh_help_needs_no_options_and_refresh_before_init_is_one_line(
    tmp_path: Path,
) -> None:
    helped = archy_node("tuf", "refresh", "--help")
    metadata = tmp_path / "metadata"
    early = archy_node(
        "tuf", "--metadata-dir", str(metadata), "--metadata-url", "http://127.0.0.1:9/", "refresh"
    )

    assert helped.returncode == 0, helped.stderr
    assert "Update the trusted top-level metadata" in helped.stdout
    assert early.returncode == 1
    assert early.stderr == (
        f"error: {metadata / 'root.json'} does not exist: no trusted root yet; run "
        f"`archy-node tuf --metadata-dir {metadata} init ROOT.json` first\n"
    )
    assert not metadata.exists()


def test_archy_help_and_validate_help_load_no_boto3_git_or_httpx() -> None:
    probe = (
        "import sys\n"
        "from pipeline.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('boto3', 'git', 'httpx') if m in sys.modules))\n"
    )
    for args in (["--help"], ["validate", "--help"], ["app", "--help"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env=ENV,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "[]", (args, result.stdout)
    listed = archy("--help")
    for name in ("build", "ceremony", "publish", "refresh-timestamp", "storefront", "validate"):
        assert f"  {name} " in listed.stdout
    assert archy("images", "lock", "--help").returncode == 0  # a lazy command still runs
