"""REDESIGN-SHIM: moved to node_runtime/seed/; removed at the merge."""

from node_runtime.seed.bounded_http import RECEIVE_BYTES as RECEIVE_BYTES
from node_runtime.seed.bounded_http import BoundedHttpServer as BoundedHttpServer
from node_runtime.seed.bounded_http import ConnectionReader as ConnectionReader
from node_runtime.seed.bounded_http import HttpLimits as HttpLimits
from node_runtime.seed.bounded_http import OneRequestHandler as OneRequestHandler
