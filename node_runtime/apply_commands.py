"""REDESIGN-SHIM: moved to node_runtime/commands/; removed at the merge."""

from node_runtime.commands.apply import apply_command as apply_command
from node_runtime.commands.apply import restart_command as restart_command
from node_runtime.commands.apply import start_command as start_command
from node_runtime.commands.apply import stop_command as stop_command
from node_runtime.commands.daemon import daemon_command as daemon_command
from node_runtime.commands.options import data_root_option as data_root_option
from node_runtime.commands.options import engine_option as engine_option
from node_runtime.commands.options import hook_source_option as hook_source_option
from node_runtime.daemon import DEFAULT_PULL_SECONDS as DEFAULT_PULL_SECONDS
from node_runtime.daemon import DEFAULT_RECONCILE_SECONDS as DEFAULT_RECONCILE_SECONDS
from node_runtime.daemon import PULL_JITTER as PULL_JITTER
from node_runtime.daemon import WATCH_SECONDS as WATCH_SECONDS
