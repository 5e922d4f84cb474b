"""``python -m node_runtime`` and the frozen ``archy-node`` binary start here."""

from node_runtime.cli import main

if __name__ == "__main__":
    main(prog_name="archy-node")
