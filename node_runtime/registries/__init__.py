"""Nodes with several registries: the third-party registries the owner added, each with its
own root, TUF trust state, seeds and catalog, and the rules between registries.

``manage`` (add, set, remove), ``from_announcement`` (add from a verified Nostr
announcement), ``pull`` (every registry, each catalog checked whole for developer
signatures), ``clashes`` (what an app of one registry may never take from another),
``install`` (``NAME/app`` installs), ``score`` (the trust score ``info`` and the threshold
use).  The state files live in :mod:`node_runtime.store.registry_state`.

May import node_runtime.store, fetch, plan, apply and market (tests/unit/test_architecture.py).
"""
