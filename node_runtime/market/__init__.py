"""The node's side of the marketplace: discover apps announced on Nostr relays, check every
claim against the announced registry's signed metadata, and explain a trust score.

Never imports pipeline.  nostr-sdk is imported only by :mod:`node_runtime.market.relays`,
inside its functions, so no other node command loads it.  docs/marketplace.md is the
protocol.
"""
