"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.http_seed import HttpSeedTransport as HttpSeedTransport
from node_runtime.fetch.iroh_endpoint import parse_iroh_seed_url as parse_iroh_seed_url
from node_runtime.fetch.iroh_seed import IrohClient as IrohClient
from node_runtime.fetch.iroh_seed import IrohSeedTransport as IrohSeedTransport
from node_runtime.fetch.range_schedule import (
    DEFAULT_MIN_BYTES_PER_SECOND as DEFAULT_MIN_BYTES_PER_SECOND,
)
from node_runtime.fetch.range_schedule import (
    DEFAULT_RANGE_ALLOWANCE_SECONDS as DEFAULT_RANGE_ALLOWANCE_SECONDS,
)
from node_runtime.fetch.range_schedule import RangeSchedule as RangeSchedule
from node_runtime.fetch.seed_transport import DEFAULT_STALL_SECONDS as DEFAULT_STALL_SECONDS
from node_runtime.fetch.seed_transport import BlobTransport as BlobTransport
from node_runtime.fetch.seed_transport import BlobUnavailableError as BlobUnavailableError
from node_runtime.fetch.seed_transport import LocalStoreError as LocalStoreError
from node_runtime.fetch.seed_transport import RangeCancelledError as _RangeCancelledError  # noqa: F401 - renamed
from node_runtime.fetch.seed_transport import SeedBusyError as SeedBusyError
from node_runtime.fetch.seed_transport import SeedError as SeedError
from node_runtime.fetch.seed_transport import SeedFaultError as SeedFaultError
from node_runtime.fetch.seed_transport import SeedMissingBlobError as SeedMissingBlobError
from node_runtime.fetch.seed_transport import Sink as Sink
from node_runtime.fetch.seed_transport import seed_root_url as seed_root_url
from node_runtime.fetch.sources import Sources as SeedAwareFetcher  # noqa: F401 - renamed
from node_runtime.fetch.swarm import DEFAULT_RANGE_BYTES as DEFAULT_RANGE_BYTES
from node_runtime.fetch.swarm import HASH_READ_BYTES as HASH_READ_BYTES
from node_runtime.fetch.swarm import BlobFetchReport as BlobFetchReport
from node_runtime.fetch.swarm import MultiSourceBlobFetcher as MultiSourceBlobFetcher
from node_runtime.fetch.swarm import transport_for_seed as transport_for_seed
