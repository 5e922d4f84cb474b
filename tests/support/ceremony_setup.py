"""A throwaway ceremony for tests: three maintainer keys (2-of-3) and an online key."""

from __future__ import annotations

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


def make_ceremony(directory: Path, now: datetime = NOW) -> ThrowawayCeremony:
    maintainers = [SigningKey.generate() for _ in range(3)]
    online = SigningKey.generate()
    key_files = {}
    for name, key in zip(("alice", "bob", "carol", "online"), [*maintainers, online], strict=True):
        path = directory / "keys" / f"{name}.key"
        write_key_file(path, key, PASSPHRASE, KdfCost.INTERACTIVE)
        write_public_key_file(path.with_name(path.name + ".pub"), key.public_key)
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
