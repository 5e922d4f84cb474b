"""Serving and syncing swarm seeds: what ``archy-node seed serve|sync`` and
``archy-node daemon --seed`` run.

What it holds:

- ``store.py`` — the blobs a seed serves (hashed before first served) and
  its metadata copy, with checked uploads;
- ``bounded_http.py`` — an HTTP/1.1 server that idle, slow or half-sent
  connections cannot exhaust; ``http_server.py`` — the HTTP seed on it;
- ``iroh_server.py`` — the iroh seed (``archy/blobs/1``);
- ``addresses.py`` — ``HOST:PORT`` parsing for where a seed listens;
- ``sync.py`` — mirroring an origin's signed targets and metadata into a
  seed store (the TUF client workflow, every blob checked);
- ``node_seed.py`` — a node serving its own verified blob store.

What it may import: ``catalog``, ``signing``, the node's store
(``node_runtime.store.blob_store``, ``atomic_file``, ``node_state``) and
``node_runtime.fetch`` (the wire protocol, iroh endpoints, the TUF client
and the origin fetcher, for sync).  Nothing in ``node_runtime.fetch``
imports this package.
"""
