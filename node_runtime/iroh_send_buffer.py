"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.iroh_send_buffer import install_fast_send_buffer as install_fast_send_buffer
from node_runtime.fetch.iroh_send_buffer import is_installed as is_installed
