"""REDESIGN-SHIM: moved to node_runtime/apply/* (this package); removed at the merge.

The apply stage: carries out the planner's plan on the node, and changes desired state.

* :mod:`.run` — ``apply``/``plan_apply``: observe, plan, execute app by app;
* :mod:`.observe` — the planner's view of the node; the apps' containers for status;
* :mod:`.executor` — runs a plan's actions, one at a time;
* :mod:`.secrets`, :mod:`.data_dirs`, :mod:`.hooks`, :mod:`.health` — what single
  actions do (secret values, data dirs and mount checks, post-install hooks,
  health waits);
* :mod:`.rollback` — after a failed install or update;
* :mod:`.stage` — no container engine (``--engine stage``);
* :mod:`.restart`, :mod:`.purge` — one app at a time;
* :mod:`.desired_state` — install and uninstall (``state/installed.json``);
* :mod:`.outcome` — results and ``ActionFailed``.

May import ``catalog``, ``node_runtime.store``, ``node_runtime.plan`` and
``node_runtime.engines``; never ``pipeline``, the fetch stage or a command.

At the merge: keep this docstring without its first line, and drop the re-exports
below, which stand for the old module ``node_runtime/apply.py``.
"""

from node_runtime.apply.data_dirs import check_member_mounts as check_member_mounts
from node_runtime.apply.data_dirs import create_data_dir as create_data_dir
from node_runtime.apply.data_dirs import data_dir_exists as data_dir_exists
from node_runtime.apply.executor import CRASH_ENV as CRASH_ENV
from node_runtime.apply.executor import CRASH_EXIT_STATUS as CRASH_EXIT_STATUS
from node_runtime.apply.executor import crash_point as crash_point
from node_runtime.apply.executor import execute_action as execute_action
from node_runtime.apply.health import HEALTH_MARGIN_SECONDS as HEALTH_MARGIN_SECONDS
from node_runtime.apply.health import HEALTH_POLL_SECONDS as HEALTH_POLL_SECONDS
from node_runtime.apply.health import MINIMUM_HEALTH_SECONDS as MINIMUM_HEALTH_SECONDS
from node_runtime.apply.health import health_budget_seconds as health_budget_seconds
from node_runtime.apply.health import wait_healthy as wait_healthy
from node_runtime.apply.hooks import canonical_hook_source as canonical_hook_source
from node_runtime.apply.hooks import run_hook_steps as run_hook_steps
from node_runtime.apply.observe import AppsView as AppsView
from node_runtime.apply.observe import node_architecture as node_architecture
from node_runtime.apply.observe import observe_apps as observe_apps
from node_runtime.apply.outcome import SYMLINK_HINT as SYMLINK_HINT
from node_runtime.apply.outcome import ActionFailed as ActionFailed
from node_runtime.apply.outcome import ApplyReport as ApplyReport
from node_runtime.apply.outcome import AppResult as AppResult
from node_runtime.apply.outcome import Status as Status
from node_runtime.apply.purge import PurgeRefused as PurgeRefused
from node_runtime.apply.purge import purge_app as purge_app
from node_runtime.apply.restart import restart_app as restart_app
from node_runtime.apply.run import apply as apply
from node_runtime.apply.run import plan_apply as plan_apply
from node_runtime.apply.secrets import generate_secret_value as generate_secret_value
from node_runtime.apply.secrets import read_secret_file as read_secret_file
from node_runtime.apply.secrets import write_secret_once as write_secret_once
from node_runtime.apply.stage import plan_stage as plan_stage
from node_runtime.apply.stage import stage_apps as stage_apps
from node_runtime.store.applied import read_applied as read_applied
from node_runtime.store.failures import read_failures as read_failures
from node_runtime.store.secret_owners import forget_secret_owners as forget_secret_owners
from node_runtime.store.secret_owners import read_secret_owners as read_secret_owners
from node_runtime.store.secret_owners import record_secret_owners as record_secret_owners
from node_runtime.store.stopped import read_stopped as read_stopped
from node_runtime.store.stopped import save_stopped as save_stopped
