"""BLAKE3 content addressing: the hex digest that names every immutable file."""

from __future__ import annotations

import re
from typing import BinaryIO

import blake3

BLAKE3_HEX = re.compile(r"^[0-9a-f]{64}$")


def blake3_hex(data: bytes) -> str:
    """The 64-character lower-case hex BLAKE3 digest of ``data``."""
    return blake3.blake3(data).hexdigest()


def blake3_stream(stream: BinaryIO, chunk_size: int = 1 << 20) -> str:
    """Hash a binary stream without holding it in memory."""
    hasher = blake3.blake3()
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
    return hasher.hexdigest()


def is_blake3_hex(text: str) -> bool:
    return BLAKE3_HEX.fullmatch(text) is not None
