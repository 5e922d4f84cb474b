"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.conditional_cache import CACHE_FORMAT as CACHE_FORMAT
from node_runtime.fetch.conditional_cache import MAX_ENTRIES as MAX_ENTRIES
from node_runtime.fetch.conditional_cache import CachedAnswer as CachedAnswer
from node_runtime.fetch.conditional_cache import ConditionalCache as ConditionalCache
from node_runtime.fetch.conditional_cache import conditional_headers as conditional_headers
from node_runtime.fetch.conditional_cache import validators_from_headers as validators_from_headers
