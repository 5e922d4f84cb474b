"""The storefront: a static site made only from a repository it has verified.

* :mod:`.verified_repository` — reads an origin through the TUF rules (``signing``);
* :mod:`.site` (templates and assets beside it) and :mod:`.build` — the pages;
* :mod:`.publish_step` — the storefront written to an origin, last.

May import ``catalog``, ``signing`` and ``pipeline.publish``; never ``node_runtime``.
"""
