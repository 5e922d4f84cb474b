"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands import COMMANDS as COMMANDS
from node_runtime.commands import main as main
