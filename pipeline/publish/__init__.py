"""Publishing a signed repository to an origin (DESIGN §6).

What it holds:

- ``layout``: the origin's paths and the ONE publish order every publisher sorts by;
- ``origin``: the ``Origin`` protocol, the error family (``PublishError`` ⊃
  ``OriginError`` ⊃ ``PublishConflictError``, all ``catalog.refusal.Refused``) and
  ``origin_for_url``; ``file_origin`` (a directory) and ``s3_origin`` with
  ``s3_client`` (S3-compatible storage) implement it;
- ``upload_planner`` / ``upload_executor``: uploading a built repository tree to any
  origin — every check first, then the writes in the publish order;
- ``signed_repository``: signing snapshot and timestamp online for threshold-signed
  targets and writing them (``archy publish``, ``archy refresh-timestamp``);
  ``artifacts``, ``catalog_deltas`` and ``targets_layout``: what gets signed;
- ``seed_push``: offering what an origin serves to HTTP seeds.

What it may import: ``catalog``, ``signing``, ``pipeline.atomic_file``, and boto3
(only in ``s3_client`` and ``s3_origin``, which nothing else here imports, so a file
publish never loads it) and httpx (``seed_push``).  Never ``node_runtime``, and never
the stages above it (``pipeline.ceremony``, ``pipeline.storefront``, the commands):
those import this package.  ``file_origin`` and ``s3_origin`` do not import each
other; ``origin_for_url`` finds them by scheme.
"""
