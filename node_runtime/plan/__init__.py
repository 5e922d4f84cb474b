"""The planner: desired state + observed state -> an ordered plan of actions (pure).

* :mod:`.observed` — what the node has now (filled by the caller);
* :mod:`.actions` — the actions and the plan;
* :mod:`.desired` — an installed app the node can run (units checked, manifest pinned);
* :mod:`.resolve` — which apps can run, why the others cannot, dependency order;
* :mod:`.app_plan` — the actions for one app;
* :mod:`.reconcile` — the whole node's plan.

May import ``catalog`` and the store's models (``node_runtime.store.applied``,
``node_runtime.store.failures``); never an engine, the network or a file: no I/O.
"""
