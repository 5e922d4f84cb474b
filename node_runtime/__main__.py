"""``python -m node_runtime`` and the frozen ``archy-node`` binary start here."""

import os
import sys
from pathlib import Path

from node_runtime.frozen_environment import restore_library_path

restore_library_path(os.environ)

if getattr(sys, "frozen", False):  # unpack iroh, nostr-sdk, cryptography on first import
    from node_runtime.deferred_libraries import install

    install(Path(sys.executable), Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)))

from node_runtime.commands import main  # noqa: E402 (after the environment is repaired)

if __name__ == "__main__":
    main(prog_name="archy-node")
