"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.http import DEFAULT_PULL_DEADLINE_SECONDS as DEFAULT_PULL_DEADLINE_SECONDS
from node_runtime.fetch.http import TIMESTAMP_NAME as TIMESTAMP_NAME
from node_runtime.fetch.http import TRANSIENT_STATUSES as TRANSIENT_STATUSES
from node_runtime.fetch.http import USER_AGENT as USER_AGENT
from node_runtime.fetch.http import ConditionalResponse as ConditionalResponse
from node_runtime.fetch.http import OriginFetcher as OriginFetcher
from node_runtime.fetch.http import Timeouts as Timeouts
from node_runtime.fetch.http import origin_base_url as origin_base_url
from node_runtime.fetch.http import repository_urls as repository_urls
from node_runtime.fetch.retry import FetchStats as FetchStats
from node_runtime.fetch.retry import RetryPolicy as RetryPolicy
