"""The node's fetch stage: bytes from the origin and the swarm into the node, verified.

What it holds:

- ``fetcher.py`` — the one :class:`Fetcher` interface (implementers provide
  only ``stream``; the length-capped downloads are final) and its errors;
- ``retry.py`` — retries as a wrapper around any fetcher;
- ``http.py`` — the origin over ``http(s)://`` and ``file://`` (an ``s3://``
  origin is read over HTTP), its conditional GET of ``timestamp.json``
  (``conditional_cache.py`` keeps the validators between pulls);
- ``seed_transport.py`` — one swarm seed as a range transport, and the seed
  errors; ``http_seed.py`` and ``iroh_seed.py`` implement it;
  ``iroh_endpoint.py`` and ``iroh_send_buffer.py`` bind iroh endpoints (the
  seed servers use them too); ``seed_protocol.py`` is the ``archy/blobs/1``
  wire format both sides speak;
- ``swarm.py`` (with ``range_schedule.py``) — one blob from many seeds at
  once, by range, dropping seeds that lie or stall;
- ``sources.py`` — which source serves what, and in which order (stated once);
- ``tuf_client.py`` — the TUF client workflow (the updater: root chain,
  timestamp, snapshot, targets) over a fetcher;
- ``pull.py`` — the pull orchestrator (``archy-node pull``: trust, catalog,
  the installed apps' blobs, the catalog pointer switch).

What it may import: ``catalog``, ``signing``, and the node's store and state
modules (``node_runtime.store.blob_store``, ``atomic_file``, ``node_state``,
``node_config``).  It never imports ``node_runtime.seed`` (the serving side
imports this package), the planner, the apply stage, the engines or the
commands.  Importing the package imports none of its modules.
"""
