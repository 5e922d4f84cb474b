"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.tuf import download_command as download_command
from node_runtime.commands.tuf import init_command as init_command
from node_runtime.commands.tuf import refresh_command as refresh_command
from node_runtime.commands.tuf import tuf as tuf
