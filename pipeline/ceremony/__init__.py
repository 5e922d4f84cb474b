"""The maintainers' signing ceremony: keys at rest, signing events, checked diffs.

* :mod:`.keystore`, :mod:`.passphrase` — offline keys, passphrase-encrypted, 0600;
* :mod:`.event`, :mod:`.state`, :mod:`.steps` — a signing event from open to threshold;
* :mod:`.event_check`, :mod:`.review`, :mod:`.catalog_diff`, :mod:`.root_diff` — what
  a signer is shown is recomputed from signed inputs, never taken from the event;
* :mod:`.event_publish` — an accepted event written to an origin.

May import ``catalog``, ``signing``, the build (to re-check what CI built) and
``pipeline.publish``; never ``node_runtime``, never a command module.
"""
