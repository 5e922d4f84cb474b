"""Where a repository and its seeds are: the address forms both programs read.

An origin is ``file://DIR`` (or a plain path), ``http(s)://HOST/PREFIX`` or
``s3://BUCKET/PREFIX``; an iroh seed is ``iroh://<endpoint id>@<addr>,<addr>``.
The publisher writes these into configs and messages, the node checks them at
``archy-node init`` and reads from them when it pulls.  Pure: strings in, strings
out (a plain path is resolved to a ``file://`` URL); a malformed address raises
``ValueError`` with one line naming it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def origin_base_url(origin: str, s3_endpoint: str | None = None) -> str:
    """The base URL a node reads ``origin`` from (no trailing slash).

    ``s3://BUCKET/PREFIX`` becomes ``{s3_endpoint}/BUCKET/PREFIX`` (path-style,
    for S3-compatible stores) or, without an endpoint, the bucket's public
    virtual-hosted AWS URL.  Plain paths become ``file://`` URLs.
    """
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https", "file"):
        return origin.rstrip("/")
    if parts.scheme == "s3":
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not bucket:
            raise ValueError(f"{origin}: an s3:// origin needs a bucket (s3://BUCKET/PREFIX)")
        base = (
            f"{s3_endpoint.rstrip('/')}/{bucket}"
            if s3_endpoint
            else f"https://{bucket}.s3.amazonaws.com"
        )
        return f"{base}/{prefix}" if prefix else base
    if parts.scheme == "":
        return Path(origin).resolve().as_uri()
    raise ValueError(f"{origin}: unsupported origin (use file://, http(s):// or s3://)")


def iroh_seed_url(endpoint_id: str, direct_addresses: list[str]) -> str:
    """``iroh://<endpoint id>@<addr>,<addr>`` — how seeds are named in config and messages."""
    return f"iroh://{endpoint_id}@{','.join(direct_addresses)}"


def parse_iroh_seed_url(seed_url: str) -> tuple[str, list[str]]:
    """``iroh://<endpoint id>@<addr>,<addr>`` → ``(endpoint id, direct addresses)``."""
    rest = seed_url.removeprefix("iroh://").rstrip("/")
    endpoint_id, _, addresses = rest.partition("@")
    if not endpoint_id or seed_url == rest:
        raise ValueError(f"{seed_url!r}: an iroh seed is iroh://<endpoint id>@<host:port>,…")
    return endpoint_id, [address for address in addresses.split(",") if address]
