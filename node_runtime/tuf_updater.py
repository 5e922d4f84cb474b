"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.atomic_file import write_file_atomically as write_atomically  # noqa: F401 - renamed
from node_runtime.fetch.tuf_client import Updater as Updater
from node_runtime.fetch.tuf_client import UpdaterConfig as UpdaterConfig
from node_runtime.fetch.tuf_client import role_file_name as role_file_name
