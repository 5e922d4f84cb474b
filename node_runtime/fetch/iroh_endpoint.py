"""iroh endpoints for seeds: bind one, and name a seed ``iroh://<endpoint id>@<addr>,…``.

Both sides use this: the swarm's client endpoint and the node's or a seed
operator's serving endpoint.  Relays are off unless asked for, discovery is
off (the minimal preset), and the binding's slow send buffer is replaced
(:mod:`node_runtime.fetch.iroh_send_buffer`).

Public API: ``bind_iroh_endpoint(bind_addr, relays=False, alpns=None)`` (async).
The seed address form itself is :mod:`catalog.locations`.
"""

from __future__ import annotations

from typing import Any


async def bind_iroh_endpoint(
    bind_addr: str = "127.0.0.1:0", relays: bool = False, alpns: list[bytes] | None = None
) -> Any:
    """An iroh endpoint: minimal preset (no discovery), relays off unless asked for."""
    import iroh

    from node_runtime.fetch.iroh_send_buffer import install_fast_send_buffer

    install_fast_send_buffer()
    builder = iroh.EndpointBuilder()  # type: ignore[no-untyped-call]
    if relays:
        builder.apply_n0()
    else:
        builder.apply_minimal()
        builder.relay_mode(iroh.RelayMode.disabled())
    builder.alpns(alpns or [])
    builder.bind_addr(bind_addr)
    return await builder.bind()
