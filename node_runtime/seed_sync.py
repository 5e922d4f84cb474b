"""REDESIGN-SHIM: moved to node_runtime/seed/; removed at the merge."""

from node_runtime.seed.sync import ROOT_MAX_BYTES as ROOT_MAX_BYTES
from node_runtime.seed.sync import SeedSyncError as SeedSyncError
from node_runtime.seed.sync import SeedSyncReport as SeedSyncReport
from node_runtime.seed.sync import sync_seed_store as sync_seed_store
