"""The trust layer: TUF metadata, keys, threshold signatures and the client state machine.

Holds the metadata models (``metadata``, with strict field readers in
``metadata_fields`` and delegations in ``delegations``), keys and signatures
(``keys``), hashing (``hashing``), threshold verification (``threshold``), the
client's trusted-metadata state machine (``trusted_set``, bytes in, trusted or
refused), the repository-side editing and signing helpers (``repository``) and the
error types (``errors``).

Import rule: ``signing`` imports only ``catalog`` of the project (today only
``catalog.canonical``, for canonical JSON) and never ``pipeline`` or
``node_runtime``; both programs may import it.  Third-party: cryptography, PyNaCl,
blake3.  Pure: it verifies and produces bytes and never opens a file or a socket.
"""
