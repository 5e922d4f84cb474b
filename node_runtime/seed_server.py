"""REDESIGN-SHIM: moved to node_runtime/seed/; removed at the merge."""

from node_runtime.fetch.iroh_endpoint import bind_iroh_endpoint as bind_iroh_endpoint
from node_runtime.fetch.iroh_endpoint import iroh_seed_url as iroh_seed_url
from node_runtime.seed.addresses import parse_bind_address as parse_bind_address
from node_runtime.seed.http_server import DEFAULT_MAX_UPLOAD_BYTES as DEFAULT_MAX_UPLOAD_BYTES
from node_runtime.seed.http_server import MAX_METADATA_UPLOAD_BYTES as MAX_METADATA_UPLOAD_BYTES
from node_runtime.seed.http_server import HttpSeedServer as HttpSeedServer
from node_runtime.seed.http_server import blake3_of_target_path as blake3_of_target_path
from node_runtime.seed.iroh_server import IrohSeed as IrohSeed
from node_runtime.seed.store import SEND_CHUNK_BYTES as SEND_CHUNK_BYTES
from node_runtime.seed.store import BlobNotServedError as BlobNotServedError
from node_runtime.seed.store import SeedStats as SeedStats
from node_runtime.seed.store import SeedStore as SeedStore
from node_runtime.seed.store import UploadRefusedError as UploadRefusedError
