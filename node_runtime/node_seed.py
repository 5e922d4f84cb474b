"""REDESIGN-SHIM: moved to node_runtime/seed/; removed at the merge."""

from node_runtime.seed.addresses import parse_host_port as parse_host_port
from node_runtime.seed.node_seed import NodeSeed as NodeSeed
from node_runtime.seed.node_seed import serve_node_store as serve_node_store
