"""App developer tools behind ``archy app new|run|test``: one app, on this machine.

* :mod:`.scaffold` — a commented manifest and icon from a template (``app new``);
* :mod:`.local_repository` — the app checked and signed into a throwaway repository;
* :mod:`.local_run` — that repository installed on a throwaway node by the real
  ``archy-node``, run as a process (``app run``);
* :mod:`.lifecycle_gate` — the lifecycle gate for one app (``app test``).

May import ``catalog``, ``signing``, the publisher's checks and ``pipeline.publish``;
never ``node_runtime`` (the node runs as its own program).
"""
