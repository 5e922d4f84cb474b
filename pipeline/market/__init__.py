"""The developer's side of the marketplace: identity, signed app entries, Nostr announcements.

See docs/marketplace.md for the protocol.  nostr-sdk is imported only inside the
functions that need it, so `archy --help` and the other commands never load it.
"""
