"""REDESIGN-SHIM: moved to node_runtime/engines/podman_args.py; removed at the merge."""

from node_runtime.engines.podman_args import STOP_TIMEOUT_SECONDS as STOP_TIMEOUT_SECONDS
from node_runtime.engines.podman_args import app_run_arguments as app_run_arguments
from node_runtime.engines.podman_args import healthcheck_arguments as healthcheck_arguments
from node_runtime.engines.podman_args import network_create_arguments as network_create_arguments
from node_runtime.engines.podman_args import network_exists_arguments as network_exists_arguments
from node_runtime.engines.podman_args import remove_arguments as remove_arguments
from node_runtime.engines.podman_args import run_arguments as run_arguments
from node_runtime.engines.podman_args import secret_create_arguments as secret_create_arguments
from node_runtime.engines.podman_args import secret_exists_arguments as secret_exists_arguments
from node_runtime.engines.podman_args import stop_arguments as stop_arguments
