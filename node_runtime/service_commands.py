"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.service import install_service_command as install_service_command
from node_runtime.service import SYSTEMCTL_TIMEOUT as SYSTEMCTL_TIMEOUT
