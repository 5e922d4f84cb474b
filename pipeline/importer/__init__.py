"""``archy import``: bring Umbrel and CasaOS apps over as manifests, saying what could not be.

One job per module, read top-down as the flow:
``compose_yaml`` (bounded YAML) -> ``interpolation`` (Compose variables) ->
``compose`` (a Compose file as plain services) -> ``umbrel`` / ``casaos``
(each store's format) -> ``mapping`` (our manifest) -> ``clashes`` (free host
ports, names, routes) -> ``writer`` (manifest.yml, icon, IMPORT.md) ->
``run`` (one import run and its summary) -> ``command`` (the click command).
"""
