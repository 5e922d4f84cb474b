"""The environment the frozen binary hands to the programs it runs (podman, systemctl).

PyInstaller's bootloader points ``LD_LIBRARY_PATH`` at the libraries it
unpacked (and keeps the caller's value in ``LD_LIBRARY_PATH_ORIG``).  A
program started with that environment loads those bundled libraries instead
of the system's: on Debian 13, ``systemctl`` then fails with "version
`OPENSSL_3.x' not found (required by libsystemd-shared-257.so)".  The node
agent's own libraries are already loaded when it starts, so restoring the
caller's value for everything it runs changes nothing for the agent itself.

Public API: ``restore_library_path(environ)``.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping

_SAVED_SUFFIX = "_ORIG"
_VARIABLES = ("LD_LIBRARY_PATH",)


def restore_library_path(environ: MutableMapping[str, str], *, frozen: bool | None = None) -> None:
    """Give ``environ`` back the library path the frozen binary was started with."""
    if not (getattr(sys, "frozen", False) if frozen is None else frozen):
        return
    for name in _VARIABLES:
        original = environ.pop(name + _SAVED_SUFFIX, None)
        if original is not None:
            environ[name] = original
        else:
            environ.pop(name, None)
