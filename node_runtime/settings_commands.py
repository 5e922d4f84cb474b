"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.settings import MAX_SETTING_FILE_BYTES as MAX_SETTING_FILE_BYTES
from node_runtime.commands.settings import configure_command as configure_command
