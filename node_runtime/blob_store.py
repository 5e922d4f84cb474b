"""REDESIGN-SHIM: moved to node_runtime/store/; removed at the merge."""

from node_runtime.store.blob_store import CHUNK_SIZE as CHUNK_SIZE
from node_runtime.store.blob_store import BlobError as BlobError
from node_runtime.store.blob_store import BlobMismatchError as BlobMismatchError
from node_runtime.store.blob_store import BlobMissingError as BlobMissingError
from node_runtime.store.blob_store import BlobStore as BlobStore
from node_runtime.store.blob_store import BlobTamperedError as BlobTamperedError
