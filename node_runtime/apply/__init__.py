"""The apply stage: carries out the planner's plan on the node, and changes desired state.

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
"""
