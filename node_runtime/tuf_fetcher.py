"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.fetcher import CHUNK_SIZE as CHUNK_SIZE
from node_runtime.fetch.fetcher import DownloadError as DownloadError
from node_runtime.fetch.fetcher import DownloadHTTPError as DownloadHTTPError
from node_runtime.fetch.fetcher import DownloadLengthError as DownloadLengthError
from node_runtime.fetch.fetcher import Fetcher as Fetcher
from node_runtime.fetch.fetcher import RemoteFileNotFoundError as RemoteFileNotFoundError
from node_runtime.fetch.http import FileFetcher as FileFetcher
from node_runtime.fetch.http import fetcher_for as fetcher_for
