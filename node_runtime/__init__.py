"""The node agent (``archy-node``, frozen into one binary): pull, verify, apply.

Laid out by stage (``tests/unit/test_architecture.py`` holds the arrows: ``store`` at the
bottom; ``plan`` -> ``store``; ``engines`` -> ``plan``, ``store``; ``apply`` -> ``engines``,
``plan``, ``store``; ``fetch`` -> ``store``; ``seed`` and ``market`` -> ``fetch``, ``store``;
``commands`` on top):

* :mod:`.fetch` — bytes in from the origin and the swarm; the TUF client verifies
  metadata, every blob is checked against its signed length and BLAKE3;
* :mod:`.store` — what the node keeps on disk (blobs, trusted metadata, state files,
  config), each file owned by one module, every write atomic and fsynced;
* :mod:`.plan` — pure: the verified catalog + the owner's choices + what runs now
  -> an ordered plan;
* :mod:`.apply` — carries the plan out (secrets, data dirs, hooks, health, rollback);
* :mod:`.engines` — podman, Quadlet under systemd, and stage (no engine);
* :mod:`.seed` — serving blobs to other nodes; :mod:`.market` — discovery over Nostr;
* :mod:`.daemon`, :mod:`.local_node`, :mod:`.self_update`, :mod:`.service` — the loop and
  the node-wide operations the commands call; :mod:`.commands` — thin click commands.

May import ``catalog`` and ``signing``; never ``pipeline`` (the publisher is another
program), and nothing that pulls in boto3, GitPython or jinja2
(``tests/unit/test_architecture.py`` reads the imports to hold both).
"""
