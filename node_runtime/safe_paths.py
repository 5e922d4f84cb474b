"""REDESIGN-SHIM: moved to node_runtime/store/; removed at the merge."""

from node_runtime.store.safe_paths import UnsafePath as UnsafePath
from node_runtime.store.safe_paths import check_directories as check_directories
from node_runtime.store.safe_paths import describe_entry as describe_entry
from node_runtime.store.safe_paths import directory_state as directory_state
from node_runtime.store.safe_paths import entry_kind as entry_kind
from node_runtime.store.safe_paths import open_directory as open_directory
from node_runtime.store.safe_paths import relative_parts as relative_parts
from node_runtime.store.safe_paths import relative_parts_or_none as relative_parts_or_none
