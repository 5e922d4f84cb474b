"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.install import install_command as install_command
from node_runtime.commands.install import uninstall_command as uninstall_command
from node_runtime.commands.node import init_command as init_command
from node_runtime.commands.node import list_command as list_command
from node_runtime.commands.node import pull_command as pull_command
from node_runtime.commands.node import status_command as status_command
from node_runtime.commands.options import Command as Command
from node_runtime.commands.options import engine_option as install_engine_option  # noqa: F401
from node_runtime.commands.options import hook_source_option as install_hook_source_option  # noqa: F401
from node_runtime.commands.options import json_option as json_option
from node_runtime.commands.options import no_apply_option as no_apply_option
from node_runtime.commands.options import require_node as require_initialised  # noqa: F401
from node_runtime.commands.options import state_root_hint as state_root_hint
from node_runtime.commands.options import state_root_option as state_root_option
from node_runtime.local_node import engine_unit_dir as engine_unit_dir
from node_runtime.local_node import node_engine as node_engine
