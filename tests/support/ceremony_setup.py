"""A throwaway ceremony for tests: three maintainer keys (2-of-3) and an online key.

The four keys and their passphrase-protected key files (the real Argon2id KDF) are made
once per test process and copied, mode kept (0600), into each ceremony's ``keys/``:
deriving four keys for every test cost the unit run a third of its time.  Each test still
gets its own directories, its own ceremony state and root.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ceremony.keystore import KdfCost, write_key_file, write_public_key_file
from pipeline.ceremony.state import CeremonyState
from pipeline.ceremony.steps import init_ceremony
from signing.keys import SigningKey

PASSPHRASE = b"correct horse battery staple"
NOW = datetime.now(UTC).replace(microsecond=0)  # nodes and commands check expiry against the clock


@dataclass
class ThrowawayCeremony:
    state: CeremonyState
    maintainers: list[SigningKey]
    online: SigningKey
    key_files: dict[str, Path]


KEY_NAMES = ("alice", "bob", "carol", "online")
_made: dict[str, tuple[SigningKey, Path]] = {}


def _keys() -> dict[str, tuple[SigningKey, Path]]:
    """The process's four keys, each with its written key file (made on first use)."""
    if not _made:
        scratch = Path(tempfile.mkdtemp(prefix="archy-test-keys-"))
        atexit.register(shutil.rmtree, scratch, True)
        for name in KEY_NAMES:
            key = SigningKey.generate()
            path = scratch / f"{name}.key"
            write_key_file(path, key, PASSPHRASE, KdfCost.INTERACTIVE)
            write_public_key_file(path.with_name(path.name + ".pub"), key.public_key)
            _made[name] = (key, path)
    return _made


def _copy(source: Path, target: Path) -> None:
    """``source``'s bytes into a new file created with ``source``'s mode (0600 for a key)."""
    mode = source.stat().st_mode & 0o777
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(source.read_bytes())


def make_ceremony(directory: Path, now: datetime = NOW) -> ThrowawayCeremony:
    made = _keys()
    maintainers = [made[name][0] for name in KEY_NAMES[:3]]
    online = made["online"][0]
    key_files = {}
    (directory / "keys").mkdir(parents=True, exist_ok=True)
    for name in KEY_NAMES:
        source = made[name][1]
        path = directory / "keys" / f"{name}.key"
        _copy(source, path)
        _copy(source.with_name(source.name + ".pub"), path.with_name(path.name + ".pub"))
        key_files[name] = path
    state = CeremonyState(directory / "ceremony")
    public = [key.public_key for key in maintainers]
    init_ceremony(
        state,
        {
            "root": public,
            "targets": public,
            "snapshot": [online.public_key],
            "timestamp": [online.public_key],
        },
        {"root": 2, "targets": 2},
        maintainers[:2],
        now,
    )
    return ThrowawayCeremony(state, maintainers, online, key_files)
