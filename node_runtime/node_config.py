"""REDESIGN-SHIM: moved to node_runtime/store/; removed at the merge."""

from node_runtime.store.node_config import DEFAULT_DATA_ROOT as DEFAULT_DATA_ROOT
from node_runtime.store.node_config import DEFAULT_STATE_ROOT as DEFAULT_STATE_ROOT
from node_runtime.store.node_config import STATE_ROOT_ENV as STATE_ROOT_ENV
from node_runtime.store.node_config import NodeConfig as NodeConfig
from node_runtime.store.node_config import NodeConfigError as NodeConfigError
from node_runtime.store.node_config import absolute_location as absolute_location
from node_runtime.store.node_config import initialise_node as initialise_node
from node_runtime.store.node_config import load_config as load_config
from node_runtime.store.node_config import resolve_state_root as resolve_state_root
