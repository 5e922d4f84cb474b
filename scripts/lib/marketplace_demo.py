"""The marketplace, end to end, offline: what ``scripts/marketplace-demo`` runs.

A developer makes an identity (``archy dev keygen``), builds and signs a one-app registry
and publishes it to a file origin (the production checks and publisher,
``pipeline.market.dev_registry``), and announces it (``archy dev announce``) on a Nostr
relay running here (nostr-sdk's LocalRelay on 127.0.0.1).  A node discovers it
(``archy-node discover``), sees its trust score and the reasons, adds the registry from
the announcement after showing the root fingerprint and did:key (``archy-node registry
add --from-relay``), installs the app with the stage engine (``archy-node install
devreg/demo-notes``), and refuses two forged announcements: one naming another root for
the same registry, one naming another did:key for the developer's registry.

Every step runs the real command line as a separate process and prints what it printed.
Exit 0 when every step did what it should, 1 otherwise.  Writes only under
``dist/marketplace-demo/`` (or the directory given as its one argument), recreated on
every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from catalog.address import blake3_hex  # noqa: E402
from catalog.announcement import AppAnnouncement  # noqa: E402
from catalog.catalog_model import CATALOG_NAME  # noqa: E402
from pipeline.market.announce import announcement_event_json, send_events  # noqa: E402
from pipeline.market.dev_registry import publish_developer_registry  # noqa: E402
from pipeline.market.identity import open_identity  # noqa: E402

PASSPHRASE_ENV = "ARCHY_DEMO_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)


class DemoFailed(Exception):
    pass


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run(*args: str, expect: int = 0, show: bool = True) -> str:
    """Run one of our commands; print its output, indented; fail the demo on a surprise."""
    command = [str(BIN / args[0]), *args[1:]]
    print("$ " + " ".join(args), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if show:
        for line in (done.stdout + done.stderr).splitlines():
            print(f"    {line}")
    if done.returncode != expect or "Traceback" in done.stderr:
        raise DemoFailed(
            f"{args[0]} {args[1]} exited {done.returncode}, expected {expect}: "
            f"{done.stderr.strip()[-400:]}"
        )
    return done.stdout


def start_relay() -> tuple[object, str]:
    from nostr_sdk import LocalRelayBuilder

    async def start() -> tuple[object, str]:
        relay = LocalRelayBuilder().addr("127.0.0.1").build()
        await relay.run()
        return relay, str(await relay.url())

    return asyncio.run(start())


def new_identity(directory: Path, show: bool = True) -> None:
    run("archy", "dev", "keygen", "--dir", str(directory), "--kdf-cost", "interactive",
        "--passphrase-env", PASSPHRASE_ENV, show=False)  # fmt: skip
    run("archy", "dev", "whoami", "--dir", str(directory), show=show)


def new_registry(work: Path, identity_dir: Path, app_port: int, app_id: str = "demo-notes") -> Path:
    """A one-app registry: the template web app, checked, signed, published to a file origin."""
    run("archy", "app", "new", app_id, "--template", "web", "--apps-dir",
        str(work / "apps"), show=False)  # fmt: skip
    manifest = work / "apps" / app_id / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("host: 18000", f"host: {app_port}"))
    identity = open_identity(identity_dir, os.environ[PASSPHRASE_ENV].encode())
    published = publish_developer_registry(
        work / "apps" / app_id, identity.signer, work / "repo", datetime.now(UTC)
    )
    print(f"    published {published.repo_dir} (targets v{published.targets_version})")
    print(f"    root fingerprint: {blake3_hex(published.root_file.read_bytes())}")
    print(f"    catalog BLAKE3:   {blake3_hex(published.catalog_bytes)}")
    return published.repo_dir


def catalog_file(repo: Path) -> Path:
    return next((repo / "targets").glob(f"*.{CATALOG_NAME}"))


def announce(identity_dir: Path, repo: Path, relay: str) -> str:
    out = run("archy", "dev", "announce", "--dir", str(identity_dir), "--catalog",
              str(catalog_file(repo)), "--root", str(repo / "metadata" / "1.root.json"),
              "--registry", "devreg", "--origin", repo.as_uri(), "--relay", relay,
              "--passphrase-env", PASSPHRASE_ENV, "--json")  # fmt: skip
    [sent] = json.loads(out)["announced"]
    return str(sent["event"])


def forge_did_announcement(attacker_dir: Path, genuine: Path, relay: str) -> str:
    """The attacker announces the developer's registry (its root and catalog) as theirs."""
    attacker = open_identity(attacker_dir, os.environ[PASSPHRASE_ENV].encode())
    root_fingerprint = blake3_hex((genuine / "metadata" / "1.root.json").read_bytes())
    content = AppAnnouncement(
        registry="devreg", app="demo-notes", version="1.0.0", revision=1,
        origins=[genuine.as_uri()],
        root={"version": 1, "blake3": root_fingerprint},
        catalog_blake3=blake3_hex(catalog_file(genuine).read_bytes()),
        did=attacker.public.did, binding=attacker.public.binding,
    )  # fmt: skip
    [outcome] = send_events([announcement_event_json(content, attacker)], [relay])
    return outcome.event_id


def demo(work: Path) -> None:
    node = ["--state-root", str(work / "node")]
    step("1. A developer makes an identity (did:key + Nostr key, bound to each other)")
    new_identity(work / "developer" / "identity")
    step("2. The developer builds, signs and publishes a one-app registry (file origin)")
    repo = new_registry(work / "developer", work / "developer" / "identity", 18500)
    step("3. ... and announces it on a Nostr relay (NIP-78, kind 30078)")
    relay, url = start_relay()
    print(f"    relay: {url}")
    announce(work / "developer" / "identity", repo, url)

    step("4. A node (official registry: a stand-in, one app) discovers the announcement")
    new_identity(work / "official" / "identity", show=False)
    official = new_registry(work / "official", work / "official" / "identity", 18600, "hello")
    run("archy-node", "init", "--root", str(official / "metadata" / "1.root.json"),
        "--origin", official.as_uri(), "--engine", "stage", "--data-root",
        str(work / "node-data"), *node)  # fmt: skip
    run("archy-node", "pull", *node)
    run("archy-node", "discover", "--relay", url, "--allow-file-origins", *node)

    step("5. The owner adds the registry, after checking its root fingerprint and did:key")
    run("archy-node", "registry", "add", "devreg", "--from-relay", url, "--announcement",
        "archy-app:devreg/demo-notes", "--allow-file-origins", "--yes", *node)  # fmt: skip
    run("archy-node", "pull", *node)
    run("archy-node", "info", "devreg/demo-notes", *node)

    step("6. ... and installs the app (stage engine: units written, nothing started)")
    run("archy-node", "install", "devreg/demo-notes", *node)
    run("archy-node", "list", *node)
    unit = work / "node" / "staged-units" / "archy-demo-notes_demo-notes.container"
    [joined] = [line[len("Network="):] for line in unit.read_text().splitlines()
                if line.startswith("Network=")]  # fmt: skip
    print(f"    devreg/demo-notes joins {joined.removesuffix('.network')}: its registry's own "
          "network (named from its did:key); official apps join archy-net")  # fmt: skip

    step("7. An attacker announces the same registry under another root: refused")
    new_identity(work / "attacker" / "identity")
    fake = new_registry(work / "attacker", work / "attacker" / "identity", 18500)
    forged_root = announce(work / "attacker" / "identity", fake, url)
    out = run("archy-node", "registry", "add", "devreg-mirror", "--from-relay", url,
              "--announcement", forged_root, "--allow-file-origins", "--yes", *node,
              expect=1)  # fmt: skip
    del out

    step("8. ... and the developer's registry under their own did:key: refused")
    forged_did = forge_did_announcement(work / "attacker" / "identity", repo, url)
    run("archy-node", "registry", "add", "devreg-again", "--from-relay", url,
        "--announcement", forged_did, "--allow-file-origins", "--yes", *node,
        expect=1)  # fmt: skip
    run("archy-node", "registry", "list", *node)
    relay.shutdown()  # type: ignore[attr-defined]


def main() -> int:
    work = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "dist" / "marketplace-demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.setdefault(PASSPHRASE_ENV, secrets.token_urlsafe(24))
    try:
        demo(work)
    except DemoFailed as failure:
        print(f"\nmarketplace-demo: FAILED: {failure}", file=sys.stderr)
        return 1
    print("\nmarketplace-demo: ok (every step did what it should)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
