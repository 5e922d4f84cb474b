"""The contract: what the publisher and the node agree on, as pure models and rules.

Holds the app manifest (``manifest``, with its vocabulary in ``manifest_fields`` and
owner settings in ``owner_setting``), the catalog model (``catalog_model``,
``catalog_delta``), canonical JSON and BLAKE3 addressing (``canonical``, ``address``),
manifest loading with line numbers (``loader``, ``problems``), what a manifest means
to a container engine (``runtime_spec`` building ``member_spec`` values, with
``runtime_names``, ``secret_homes``, ``volume_layout``, ``spec_problems``), the unit
text rules (``systemd_syntax``, ``unit_check``), requirement matching
(``capabilities``), and the one refusal type and lazy command group both programs use
(``refusal``, ``command_group``).

Import rule: ``catalog`` imports nothing of the project outside ``catalog`` itself
(not ``signing``, ``pipeline`` or ``node_runtime``); every other package may import
it.  Third-party libraries only: pydantic, ruamel.yaml, packaging, blake3 and click.
No I/O: no files, no network, no subprocess (``command_group`` only prints a
refusal's line on stderr for the command that raised it).
"""
