"""The ceremony directory: trusted roots, settings and signing events, on disk.

Layout (``ceremony/`` in the repository; ``dist/dev-ceremony/`` for the dev flow)::

    ceremony.json                 expiry periods and the event lifetime
    metadata/1.root.json …        every trusted root, each signed by its threshold
    events/<event-id>/event.json  the event record (role, version, lifetime, BLAKE3)
    events/<event-id>/metadata.json   the metadata being signed, with its signatures
    events/<event-id>/diff.txt    what changed when the event was opened: an informational
                                  copy only, never read back (every command recomputes it)
    events/<event-id>/app-catalog.json   the catalog a targets event signs
    events/<event-id>/app-files.json     the delegated app-files role it signs (split layout)
    events/<event-id>/catalog-deltas/<base blake3>.patch   the deltas it signs

Private keys never live here.

Public API: ``CeremonyState(path)`` with ``initialise(...)``, ``settings``,
``roots()`` (the verified chain), ``trusted_root()``, ``event_ids()``,
``load_event(id)``, ``save_event(event, diff_text)``, ``accept_root(event)``,
``latest_accepted_targets(below_version)``, ``accepted_targets_events(below_version)``
(newest first), ``app_files_versions()``; ``write_file_atomically(path, data)`` (from
``pipeline.atomic_file``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from catalog.catalog_delta import DELTA_DIR
from catalog.catalog_model import CATALOG_NAME
from pipeline.atomic_file import write_file_atomically
from pipeline.ceremony.event import (
    DEFAULT_EVENT_LIFETIME,
    CeremonyError,
    EventRecord,
    SigningEvent,
    check_intact,
    event_status,
)
from signing.errors import TufError
from signing.hashing import verify_length_and_hashes
from signing.keys import PublicKey, SigningKey
from signing.metadata import Metadata, Root, Targets
from signing.repository import new_root, sign
from signing.threshold import verify_delegate
from signing.trusted_set import TrustedSet

_ROOT_FILE = re.compile(r"^(\d+)\.root\.json$")
_EVENT_ID = re.compile(r"^[a-z]+-v\d+-[0-9a-f]{12}$")
APP_FILES_FILE = "app-files.json"
_DELTA_FILE = re.compile(r"^[0-9a-f]{64}\.patch$")


def _pretty_json(document: object) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class CeremonySettings:
    """How long each role's metadata lives, and how long an event may wait for signatures."""

    expiry_days: Mapping[str, int]
    event_lifetime_days: int = DEFAULT_EVENT_LIFETIME.days

    DEFAULT_EXPIRY_DAYS: ClassVar[dict[str, int]] = {
        "root": 365,
        "targets": 90,
        "snapshot": 7,
        "timestamp": 1,
    }

    def expiry(self, role: str) -> timedelta:
        return timedelta(days=self.expiry_days[role])

    @property
    def event_lifetime(self) -> timedelta:
        return timedelta(days=self.event_lifetime_days)

    def to_dict(self) -> dict[str, object]:
        return {
            "expiry_days": dict(self.expiry_days),
            "event_lifetime_days": self.event_lifetime_days,
        }


class CeremonyState:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.metadata_dir = path / "metadata"
        self.events_dir = path / "events"

    # --- creation ---

    def initialise(
        self,
        role_keys: Mapping[str, Sequence[PublicKey]],
        thresholds: Mapping[str, int],
        signing_keys: Sequence[SigningKey],
        now: datetime,
        expiry_days: Mapping[str, int] | None = None,
    ) -> Metadata[Root]:
        """Write ``ceremony.json`` and ``metadata/1.root.json`` signed by ``signing_keys``."""
        if (self.metadata_dir / "1.root.json").exists():
            raise CeremonyError(f"{self.path}: a ceremony already exists here")
        settings = CeremonySettings({**CeremonySettings.DEFAULT_EXPIRY_DAYS, **(expiry_days or {})})
        try:
            root = new_root(
                now.replace(microsecond=0) + settings.expiry("root"), role_keys, thresholds
            )
        except ValueError as error:
            raise CeremonyError(str(error)) from None
        root_keyids = set(root.roles["root"].keyids)
        metadata = sign(root, [k for k in signing_keys if k.keyid in root_keyids])
        try:
            verify_delegate(root, "root", metadata)
        except TufError as error:
            raise CeremonyError(
                f"root v1 needs its threshold of root keys to sign it ({error}); "
                "give more root private key files"
            ) from None
        write_file_atomically(self.path / "ceremony.json", _pretty_json(settings.to_dict()))
        write_file_atomically(self.metadata_dir / "1.root.json", _pretty_json(metadata.to_dict()))
        return metadata

    # --- reading ---

    def _require(self) -> None:
        if not (self.path / "ceremony.json").is_file():
            raise CeremonyError(f"{self.path}: no ceremony here (run `archy ceremony init` first)")

    @property
    def settings(self) -> CeremonySettings:
        self._require()
        data = json.loads((self.path / "ceremony.json").read_text(encoding="utf-8"))
        return CeremonySettings(data["expiry_days"], data["event_lifetime_days"])

    def root_files(self) -> list[Path]:
        self._require()
        found: dict[int, Path] = {}
        for path in self.metadata_dir.glob("*.root.json"):
            match = _ROOT_FILE.fullmatch(path.name)
            if match:
                found[int(match.group(1))] = path
        versions = sorted(found)
        if versions != list(range(1, len(versions) + 1)):
            raise CeremonyError(f"{self.metadata_dir}: root versions {versions} have a gap")
        return [found[v] for v in versions]

    def roots(self) -> list[Metadata[Root]]:
        """Every root, oldest first, after checking the chain as a client would."""
        files = self.root_files()
        try:
            trusted = TrustedSet(files[0].read_bytes())
            for path in files[1:]:
                trusted.update_root(path.read_bytes())
            return [Metadata.from_bytes(path.read_bytes(), Root) for path in files]
        except TufError as error:
            raise CeremonyError(
                f"{self.metadata_dir}: the root chain does not verify ({error})"
            ) from None

    def trusted_root(self) -> Root:
        return self.roots()[-1].signed

    def event_ids(self) -> list[str]:
        if not self.events_dir.is_dir():
            return []
        return sorted(p.name for p in self.events_dir.iterdir() if (p / "event.json").is_file())

    def event_dir(self, event_id: str) -> Path:
        if not _EVENT_ID.fullmatch(event_id):
            raise CeremonyError(f"{event_id!r} is not an event id (like targets-v3-0123456789ab)")
        return self.events_dir / event_id

    def load_event(self, event_id: str) -> SigningEvent:
        directory = self.event_dir(event_id)
        if not (directory / "event.json").is_file():
            known = ", ".join(self.event_ids()) or "none"
            raise CeremonyError(
                f"no signing event {event_id} in {self.events_dir} (events: {known})"
            )
        try:
            record = EventRecord.from_dict(json.loads((directory / "event.json").read_bytes()))
            data = (directory / "metadata.json").read_bytes()
            metadata: Metadata[Targets] | Metadata[Root] = (
                Metadata.from_bytes(data, Targets)
                if record.role == "targets"
                else Metadata.from_bytes(data, Root)
            )
        except (OSError, ValueError, KeyError, TypeError, TufError) as error:
            raise CeremonyError(f"{directory}: unreadable signing event ({error})") from None
        catalog_path = directory / "app-catalog.json"
        catalog = catalog_path.read_bytes() if catalog_path.is_file() else None
        app_files_path = directory / APP_FILES_FILE
        try:
            app_files = (
                Metadata.from_bytes(app_files_path.read_bytes(), Targets)
                if app_files_path.is_file()
                else None
            )
        except TufError as error:
            raise CeremonyError(f"{app_files_path}: unreadable ({error})") from None
        deltas_dir = directory / DELTA_DIR
        deltas = tuple(
            (f"{DELTA_DIR}/{path.name}", path.read_bytes())
            for path in sorted(deltas_dir.iterdir() if deltas_dir.is_dir() else ())
            if _DELTA_FILE.fullmatch(path.name)
        )
        return SigningEvent(record, metadata, catalog, app_files, deltas)

    def save_event(self, event: SigningEvent, diff_text: str | None = None) -> Path:
        """Write the event; ``diff_text`` (when given) goes to diff.txt, for people only."""
        directory = self.event_dir(event.event_id)
        directory.mkdir(parents=True, exist_ok=True)
        if event.catalog is not None:
            write_file_atomically(directory / "app-catalog.json", event.catalog)
        if diff_text is not None:
            write_file_atomically(directory / "diff.txt", diff_text.encode())
        for name, data in event.deltas:
            write_file_atomically(directory / name, data)
        if event.app_files is not None:
            write_file_atomically(
                directory / APP_FILES_FILE, _pretty_json(event.app_files.to_dict())
            )
        write_file_atomically(directory / "metadata.json", _pretty_json(event.metadata.to_dict()))
        write_file_atomically(directory / "event.json", _pretty_json(event.record.to_dict()))
        return directory

    def latest_event_id(self, role: str | None = None) -> str:
        ids = [
            event_id
            for event_id in self.event_ids()
            if role is None or event_id.startswith(f"{role}-")
        ]
        if not ids:
            raise CeremonyError(f"no signing events in {self.events_dir}")
        return max(ids, key=lambda each: (self.load_event(each).record.created, each))

    # --- acceptance ---

    def accept_root(self, event: SigningEvent) -> Path:
        """Make a root event that met both thresholds the newest trusted root."""
        check_intact(event)
        trusted = self.trusted_root()
        if event.record.role != "root" or event.record.version != trusted.version + 1:
            raise CeremonyError(
                f"event {event.event_id} is not the next root (v{trusted.version + 1})"
            )
        if not event_status(event, trusted).threshold_met:
            raise CeremonyError(f"event {event.event_id} has not met both root thresholds yet")
        path = self.metadata_dir / f"{event.record.version}.root.json"
        write_file_atomically(path, _pretty_json(event.metadata.to_dict()))
        self.roots()  # the chain must still verify, as a node will check it
        return path

    def targets_event_versions(self) -> list[int]:
        return [
            self.load_event(event_id).record.version
            for event_id in self.event_ids()
            if event_id.startswith("targets-")
        ]

    def latest_accepted_targets(self, below_version: int | None = None) -> SigningEvent | None:
        """The newest intact targets event that met its threshold under a trusted root.

        With ``below_version``, only events of a lower targets version count:
        the catalog a later event's changes are shown against.
        """
        accepted = self.accepted_targets_events(below_version)
        return accepted[0] if accepted else None

    def accepted_targets_events(self, below_version: int | None = None) -> list[SigningEvent]:
        """Every intact targets event that met its threshold under a trusted root, newest first."""
        roots = [metadata.signed for metadata in self.roots()]
        found: list[SigningEvent] = []
        for event_id in self.event_ids():
            if not event_id.startswith("targets-"):
                continue
            event = self.load_event(event_id)
            if below_version is not None and event.record.version >= below_version:
                continue
            try:
                check_intact(event)
            except CeremonyError:
                continue
            if any(event_status(event, root).threshold_met for root in roots):
                found.append(event)
        return sorted(found, key=lambda event: event.record.version, reverse=True)

    def accepted_catalogs(self, below_version: int, keep: int | None = None) -> dict[str, bytes]:
        """``{blake3: bytes}`` of the catalogs accepted events below ``below_version`` sign.

        Newest first, distinct, at most ``keep``; a catalog file that does not
        match what its event signs is left out (it cannot be a delta's base).
        """
        catalogs: dict[str, bytes] = {}
        for event in self.accepted_targets_events(below_version):
            if keep is not None and len(catalogs) >= keep:
                break
            signed = event.metadata.signed
            info = signed.targets.get(CATALOG_NAME) if isinstance(signed, Targets) else None
            if info is None or event.catalog is None or "blake3" not in info.hashes:
                continue
            try:
                verify_length_and_hashes(event.catalog, info.length, info.hashes)
            except TufError:
                continue
            catalogs.setdefault(info.hashes["blake3"], event.catalog)
        return catalogs

    def app_files_versions(self) -> list[int]:
        """The ``app-files`` versions every targets event holds (signed or not)."""
        versions = []
        for event_id in self.event_ids():
            if event_id.startswith("targets-"):
                app_files = self.load_event(event_id).app_files
                if app_files is not None:
                    versions.append(app_files.signed.version)
        return versions
