"""The maintainers' signing ceremony: keys at rest, signing events, catalog diffs."""
