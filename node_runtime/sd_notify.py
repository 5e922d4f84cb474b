"""REDESIGN-SHIM: moved to node_runtime/service.py; removed at the merge."""

from node_runtime.service import NOTIFY_SOCKET_ENV as NOTIFY_SOCKET_ENV
from node_runtime.service import notify as notify
