"""The node's store: everything it keeps on disk, each file owned by one module.

* :mod:`.atomic_file` — the node's one atomic write (temporary file, fsync of the
  file, rename, fsync of the directory), used for state, config, units and
  trusted TUF metadata;
* :mod:`.blob_store` — content-addressed blobs, verified on the way in and out;
* :mod:`.safe_paths` — walking a directory without following a symlink;
* :mod:`.paths` — where each file lives (``NodePaths``), ``StateError``;
* :mod:`.state_file` — how a state file (a pydantic model) is read and written;
* one module per state file, the only one that reads or writes it:
  :mod:`.installed`, :mod:`.applied`, :mod:`.catalog_pointer`, :mod:`.pulls`,
  :mod:`.failures`, :mod:`.stopped`, :mod:`.observations`, :mod:`.secret_owners`;
  :mod:`.node_state` puts the first four behind one object with the state lock;
* :mod:`.node_config` — ``config.json`` and ``archy-node init``;
* :mod:`.owner_settings` — the owner's settings of an app (kept as secret files);
* :mod:`.status` — what ``status`` and ``list`` show.

May import ``catalog`` and ``signing`` (and, for the config's URL checks, the fetch
stage's URL parsers); never ``node_runtime.plan``, ``apply``, ``engines``, a
command or ``pipeline``.
"""
