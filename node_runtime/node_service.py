"""REDESIGN-SHIM: moved to node_runtime/service.py; removed at the merge."""

from node_runtime.service import PODMAN as PODMAN
from node_runtime.service import RUNUSER as RUNUSER
from node_runtime.service import SERVICE_NAME as SERVICE_NAME
from node_runtime.service import SYSTEM_UNIT_DIR as SYSTEM_UNIT_DIR
from node_runtime.service import ServiceSettings as ServiceSettings
from node_runtime.service import render_node_service as render_node_service
from node_runtime.service import state_directory as state_directory
