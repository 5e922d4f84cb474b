"""Secret values on the node: generated once, kept in ``<state root>/secrets/<app>/<name>``.

A value is created 0600 in a 0700 dir with a hard link, so an existing file is
never overwritten, and read back without following a symlink below the state
root.  Values never reach argv, logs or error messages.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from catalog.manifest import GeneratedSecret
from node_runtime.apply.outcome import SYMLINK_HINT, ActionFailed
from node_runtime.store.atomic_file import create_file_once_in
from node_runtime.store.safe_paths import UnsafePath, open_directory

_CHARSETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "base64url": string.ascii_letters + string.digits + "-_",
}


def generate_secret_value(secret: GeneratedSecret) -> bytes:
    alphabet = _CHARSETS[secret.charset]
    return "".join(secrets.choice(alphabet) for _ in range(secret.length)).encode()


def first_secret_value(
    secret: GeneratedSecret, kept_before: Path | None, state_root: Path
) -> bytes:
    """The value a new secret file starts with: the one kept at ``kept_before`` (where the
    app filed the secret before it exported it with a capability) when there is one, else a
    new random value."""
    if kept_before is not None:
        kept = read_secret_file(kept_before, state_root)
        if kept:
            return kept
    return generate_secret_value(secret)


def write_secret_once(path: Path, value: bytes, state_root: Path) -> bool:
    """Create ``path`` (0600, in a 0700 dir) with ``value`` unless it exists; False when it
    already did.  No symlink below ``state_root`` is followed (ActionFailed if one is there)."""
    try:
        with open_directory(str(state_root), str(path.parent), create=True, mode=0o700) as folder:
            os.fchmod(folder, 0o700)
            return create_file_once_in(folder, path.name, value, mode=0o600)
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None


def read_secret_file(path: Path, state_root: Path) -> bytes | None:
    """The value in a secret file, None when it does not exist; never through a symlink."""
    try:
        with open_directory(str(state_root), str(path.parent)) as folder:
            handle = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None
    except OSError as error:
        raise ActionFailed(f"{path} cannot be read as a secret file ({error.strerror})") from None
    with os.fdopen(handle, "rb") as stream:
        return stream.read()
