"""The publisher (``archy``): validate, render, build, sign and publish the catalog.

* validation — :mod:`.validation` runs the schema (``catalog.loader``), the security
  policy (:mod:`.policy`, :mod:`.policy_rules`, :mod:`.policy_host_access`) and the
  cross-app rules (:mod:`.crossapp` and its helpers);
* :mod:`.render` — manifests to Quadlet units (jinja2 templates);
* :mod:`.catalog_build` — one commit in, one reproducible ``app-catalog.json`` out
  (with :mod:`.companions`, :mod:`.imagelock`, :mod:`.gitsource`);
* :mod:`.ceremony` — the maintainers' signing ceremony; :mod:`.publish` — origins
  (directory, S3) and seeds; :mod:`.storefront` — the static store page;
* :mod:`.appdev`, :mod:`.importer`, :mod:`.market` — developer tools, the
  Umbrel/CasaOS importer, did:key identities and Nostr announcements;
* :mod:`.commands` — thin click commands; :mod:`.cli` — the registry of ``archy``.

May import ``catalog`` and ``signing``; never ``node_runtime`` (the node is another
program; what both need lives in ``catalog`` or ``signing``).
"""
