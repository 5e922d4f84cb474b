"""How much of a range body the iroh client asks the binding for at once."""

from __future__ import annotations

from node_runtime.fetch.iroh_seed import LARGEST_PIECE, SMALLEST_PIECE, PieceSize


def test_pieces_grow_to_one_mebibyte_while_they_arrive_quickly() -> None:
    pieces = PieceSize(stall_seconds=16.0)
    sizes = []
    for _ in range(8):
        sizes.append(pieces.next(remaining=10 << 20))
        pieces.took(0.01)
    assert sizes == [64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 1 << 20, 1 << 20, 1 << 20]
    assert sizes[-1] == LARGEST_PIECE


def test_a_slow_piece_halves_the_next_and_never_below_64_kib() -> None:
    pieces = PieceSize(stall_seconds=16.0)
    for _ in range(5):
        pieces.took(0.01)
    pieces.took(5.0)  # over a quarter of the stall limit
    assert pieces.next(remaining=10 << 20) == 512 << 10
    for _ in range(10):
        pieces.took(5.0)
    assert pieces.next(remaining=10 << 20) == SMALLEST_PIECE


def test_a_piece_in_between_keeps_its_size_and_never_exceeds_what_remains() -> None:
    pieces = PieceSize(stall_seconds=16.0)
    pieces.took(0.01)
    pieces.took(3.0)  # between an eighth and a quarter
    assert pieces.next(remaining=10 << 20) == 128 << 10
    assert pieces.next(remaining=1000) == 1000
