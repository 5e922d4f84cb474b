"""``python -m node_runtime`` and the frozen ``archy-node`` binary start here."""

import os

from node_runtime.frozen_environment import restore_library_path

restore_library_path(os.environ)

from node_runtime.commands import main  # noqa: E402 (after the environment is repaired)

if __name__ == "__main__":
    main(prog_name="archy-node")
