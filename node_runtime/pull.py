"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.pull import CATALOG_TARGET as CATALOG_TARGET
from node_runtime.fetch.pull import POLL_CACHE_NAME as POLL_CACHE_NAME
from node_runtime.fetch.pull import PullError as PullError
from node_runtime.fetch.pull import PullResult as PullResult
from node_runtime.fetch.pull import default_sources as default_fetcher  # noqa: F401 - renamed
from node_runtime.fetch.pull import poll_cache as poll_cache
from node_runtime.fetch.pull import pull as pull
from node_runtime.fetch.pull import targets_for_apps as targets_for_apps
