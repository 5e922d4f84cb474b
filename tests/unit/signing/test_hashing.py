"""The hashes TUF metadata names, checked whole or over a stream of chunks: published test
vectors are the oracle, and each refusal is pinned as the fetcher and the blob store see it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signing.errors import LengthOrHashMismatchError, UnknownHashAlgorithmError
from signing.hashing import (
    SUPPORTED_ALGORITHMS,
    digest_hex,
    new_hasher,
    verify_chunks,
    verify_length_and_hashes,
)

# FIPS 180-2 ("abc") and the BLAKE3 reference test vectors
ABC = {
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha512": (
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    ),
    "blake3": "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
}


def test_each_supported_algorithm_gives_its_published_digest() -> None:
    assert SUPPORTED_ALGORITHMS == ("blake3", "sha256", "sha512")
    for algorithm, expected in ABC.items():
        assert digest_hex(algorithm, b"abc") == expected
        hasher = new_hasher(algorithm)
        hasher.update(b"a")
        hasher.update(b"bc")
        assert hasher.hexdigest() == expected


@pytest.mark.parametrize("algorithm", ["md5", "SHA256", "sha-256", ""])
def test_an_unknown_algorithm_is_refused_by_name(algorithm: str) -> None:
    with pytest.raises(UnknownHashAlgorithmError) as refused:
        new_hasher(algorithm)
    assert str(refused.value) == f"unsupported hash algorithm {algorithm!r}"
    with pytest.raises(UnknownHashAlgorithmError) as refused:
        verify_chunks([b"abc"], 3, {"sha256": ABC["sha256"], algorithm: "00"})
    assert str(refused.value) == f"unsupported hash algorithm {algorithm!r}"


def test_a_hash_is_compared_whatever_its_case() -> None:
    verify_length_and_hashes(b"abc", 3, {"sha256": ABC["sha256"].upper()})
    verify_chunks([b"abc"], 3, {"sha256": ABC["sha256"].upper()})


def test_the_whole_check_names_what_does_not_match() -> None:
    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_length_and_hashes(b"abc", 4, ABC)
    assert str(refused.value) == "expected 4 bytes, got 3"
    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_length_and_hashes(b"abd", None, ABC)
    assert str(refused.value) == "sha256 hash does not match"
    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_length_and_hashes(b"abc", 3, {**ABC, "sha512": "00"})
    assert str(refused.value) == "sha512 hash does not match"
    verify_length_and_hashes(b"abc", None, None)
    verify_length_and_hashes(b"abc", 3, {})


@pytest.mark.parametrize(
    "chunks",
    [[b"abc"], [b"a", b"bc"], [b"", b"a", b"", b"b", b"c", b""], [b"ab", b"c"]],
)
def test_chunks_of_exactly_the_length_with_matching_hashes_pass(chunks: list[bytes]) -> None:
    verify_chunks(iter(chunks), 3, ABC)


@pytest.mark.parametrize(
    ("chunks", "length", "message"),
    [
        # short: the stream ends before the promised length
        ([b"ab"], 3, "expected 3 bytes, got 2"),
        ([b"a", b"b"], 3, "expected 3 bytes, got 2"),
        ([], 3, "expected 3 bytes, got 0"),
        ([b"", b""], 1, "expected 1 bytes, got 0"),
        # long: refused as soon as a chunk goes past the length, before hashing it
        ([b"abcd"], 3, "more than the expected 3 bytes"),
        ([b"ab", b"cd"], 3, "more than the expected 3 bytes"),
        ([b"abc", b"d"], 3, "more than the expected 3 bytes"),
        ([b"a"], 0, "more than the expected 0 bytes"),
    ],
)
def test_chunks_of_another_length_are_refused_with_the_count(
    chunks: list[bytes], length: int, message: str
) -> None:
    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_chunks(iter(chunks), length, ABC)
    assert str(refused.value) == message


def test_a_stream_past_its_length_is_refused_before_it_is_read_whole() -> None:
    read: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            read.append(1)
            yield b"x" * 10

    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_chunks(endless(), 25, {"sha256": "00"})
    assert str(refused.value) == "more than the expected 25 bytes"
    assert len(read) == 3


def test_chunks_of_the_right_length_but_wrong_bytes_name_the_hash() -> None:
    with pytest.raises(LengthOrHashMismatchError) as refused:
        verify_chunks([b"ab", b"d"], 3, {"sha256": ABC["sha256"]})
    assert str(refused.value) == "sha256 hash does not match"
    verify_chunks([b""], 0, {"sha256": digest_hex("sha256", b"")})
