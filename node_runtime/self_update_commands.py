"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.self_update import self_update_command as self_update_command
from node_runtime.commands.version import DISTRIBUTION as DISTRIBUTION
from node_runtime.commands.version import REQUIRED_EXTENSIONS as REQUIRED_EXTENSIONS
from node_runtime.commands.version import node_version as node_version
from node_runtime.commands.version import version_command as version_command
