"""Hashes named in TUF metadata: ``blake3``, ``sha256`` and ``sha512``.

Public API:

- ``SUPPORTED_ALGORITHMS`` — the algorithm names this client knows;
- ``new_hasher(algorithm)`` — an incremental hasher (``update``/``hexdigest``);
- ``digest_hex(algorithm, data)`` — one digest of some bytes;
- ``verify_length_and_hashes(data, length, hashes)`` — raise unless ``data``
  has exactly ``length`` bytes (when given) and *every* listed hash matches.
  An unknown algorithm is a failure, never skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol

import blake3

from signing.errors import LengthOrHashMismatchError, UnknownHashAlgorithmError

SUPPORTED_ALGORITHMS = ("blake3", "sha256", "sha512")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> object: ...

    def hexdigest(self) -> str: ...


def new_hasher(algorithm: str) -> Hasher:
    """An empty incremental hasher for ``algorithm``; raise if it is unknown."""
    if algorithm == "blake3":
        return blake3.blake3()
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "sha512":
        return hashlib.sha512()
    raise UnknownHashAlgorithmError(f"unsupported hash algorithm {algorithm!r}")


def digest_hex(algorithm: str, data: bytes) -> str:
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return hasher.hexdigest()


def verify_hashes(hashers: Mapping[str, Hasher], hashes: Mapping[str, str]) -> None:
    """Compare finished ``hashers`` (one per algorithm of ``hashes``) with ``hashes``."""
    for algorithm, expected in hashes.items():
        if hashers[algorithm].hexdigest() != expected.lower():
            raise LengthOrHashMismatchError(f"{algorithm} hash does not match")


def hashers_for(hashes: Mapping[str, str]) -> dict[str, Hasher]:
    """One fresh hasher per algorithm listed; raise on any unknown algorithm."""
    return {algorithm: new_hasher(algorithm) for algorithm in hashes}


def verify_length_and_hashes(
    data: bytes, length: int | None, hashes: Mapping[str, str] | None
) -> None:
    """Raise :class:`LengthOrHashMismatchError` unless ``data`` matches exactly."""
    if length is not None and len(data) != length:
        raise LengthOrHashMismatchError(f"expected {length} bytes, got {len(data)}")
    if hashes:
        hashers = hashers_for(hashes)
        for hasher in hashers.values():
            hasher.update(data)
        verify_hashes(hashers, hashes)


def verify_chunks(chunks: Iterable[bytes], length: int, hashes: Mapping[str, str]) -> None:
    """Like :func:`verify_length_and_hashes` over a stream of chunks (large artifacts)."""
    hashers = hashers_for(hashes)
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > length:
            raise LengthOrHashMismatchError(f"more than the expected {length} bytes")
        for hasher in hashers.values():
            hasher.update(chunk)
    if seen != length:
        raise LengthOrHashMismatchError(f"expected {length} bytes, got {seen}")
    verify_hashes(hashers, hashes)
