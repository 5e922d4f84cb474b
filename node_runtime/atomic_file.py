"""REDESIGN-SHIM: moved to node_runtime/store/; removed at the merge."""

from node_runtime.store.atomic_file import create_file_once as create_file_once
from node_runtime.store.atomic_file import create_file_once_in as create_file_once_in
from node_runtime.store.atomic_file import fsync_directory as fsync_directory
from node_runtime.store.atomic_file import write_file_atomically as write_file_atomically
