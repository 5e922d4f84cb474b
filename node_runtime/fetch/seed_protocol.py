"""The ``archy/blobs/1`` wire format: ask a seed for a blob by BLAKE3, get bytes or a refusal.

Pure encode/decode over bytes; no sockets.  The protocol is written down in
``docs/seed-protocol.md``.  In short, on one bi-directional stream:

    client:  BLOB <blake3> <offset> <count or ->\\n     (then finishes its side)
    seed:    OK <total length> <offset> <count>\\n<count bytes>   (then finishes)
        or:  NO <code> <message>\\n

``count`` ``-`` means "to the end of the blob".  The HTTP seed applies the
same range rules to ``Range: bytes=…`` headers (:func:`parse_http_range`).

Public API: ``ALPN``, ``MAX_REQUEST_BYTES``, ``MAX_HEADER_BYTES``,
``BlobRequest``, ``BlobAnswer``, ``Refusal`` (codes ``REFUSAL_CODES``),
``encode_request``, ``decode_request``, ``encode_answer``, ``encode_refusal``,
``decode_response_header``, ``split_header``, ``resolve_range``,
``parse_http_range``, ``metadata_etag``, ``matches_if_none_match``,
``ProtocolError``, ``RangeNotSatisfiableError``, ``MalformedRangeError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.address import blake3_hex, is_blake3_hex

ALPN = b"archy/blobs/1"
MAX_REQUEST_BYTES = 256
MAX_HEADER_BYTES = 512
REFUSAL_CODES = frozenset({"not-found", "bad-request", "bad-range", "unavailable"})

_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_HTTP_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")
MAX_RANGE_HEADER_CHARS = 200


class ProtocolError(Exception):
    """Bytes that are not ``archy/blobs/1``; the message says what was wrong."""


class RangeNotSatisfiableError(ProtocolError):
    """The requested range lies outside the blob."""


class MalformedRangeError(ProtocolError):
    """A ``Range`` header that is not ``bytes=a-b``, ``a-`` or ``-n`` with sane numbers."""


@dataclass(frozen=True)
class BlobRequest:
    blake3: str
    offset: int = 0
    count: int | None = None  # None: to the end of the blob


@dataclass(frozen=True)
class BlobAnswer:
    """The seed has the blob: ``count`` bytes from ``offset`` follow; the blob has ``total``."""

    total_length: int
    offset: int
    count: int


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def _number(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise ProtocolError(f"{what} {text[:24]!r} is not a decimal number")
    return int(text)


def encode_request(request: BlobRequest) -> bytes:
    if not is_blake3_hex(request.blake3):
        raise ValueError(f"{request.blake3!r} is not a BLAKE3 hex digest")
    if request.offset < 0 or (request.count is not None and request.count < 0):
        raise ValueError("offset and count must not be negative")
    count = "-" if request.count is None else str(request.count)
    return f"BLOB {request.blake3} {request.offset} {count}\n".encode("ascii")


def decode_request(data: bytes) -> BlobRequest:
    """Parse the client's whole request (everything it sent before finishing)."""
    if len(data) > MAX_REQUEST_BYTES:
        raise ProtocolError(f"a request is at most {MAX_REQUEST_BYTES} bytes")
    if not data.endswith(b"\n") or data.count(b"\n") != 1:
        raise ProtocolError("a request is exactly one line ending in a newline")
    try:
        words = data[:-1].decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise ProtocolError("a request is ASCII") from None
    if len(words) != 4 or words[0] != "BLOB":
        raise ProtocolError("expected 'BLOB <blake3> <offset> <count or ->'")
    _, blake3, offset_text, count_text = words
    if not is_blake3_hex(blake3):
        raise ProtocolError(f"{blake3[:70]!r} is not a lower-case BLAKE3 hex digest")
    offset = _number(offset_text, "offset")
    count = None if count_text == "-" else _number(count_text, "count")
    return BlobRequest(blake3, offset, count)


def encode_answer(answer: BlobAnswer) -> bytes:
    return f"OK {answer.total_length} {answer.offset} {answer.count}\n".encode("ascii")


def encode_refusal(refusal: Refusal) -> bytes:
    if refusal.code not in REFUSAL_CODES:
        raise ValueError(f"unknown refusal code {refusal.code!r}")
    message = " ".join(refusal.message.split())  # one line, whatever the message held
    line = f"NO {refusal.code} {message}".encode("ascii", "replace")
    return line[: MAX_HEADER_BYTES - 1] + b"\n"


def split_header(buffer: bytes) -> tuple[bytes, bytes] | None:
    """``(header line without newline, bytes after it)``, or None if the line is incomplete."""
    end = buffer.find(b"\n")
    if end < 0:
        if len(buffer) >= MAX_HEADER_BYTES:
            raise ProtocolError(f"no response header within {MAX_HEADER_BYTES} bytes")
        return None
    if end >= MAX_HEADER_BYTES:
        raise ProtocolError(f"response header longer than {MAX_HEADER_BYTES} bytes")
    return buffer[:end], buffer[end + 1 :]


def decode_response_header(line: bytes) -> BlobAnswer | Refusal:
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError("a response header is ASCII") from None
    if text.startswith("NO "):
        code, _, message = text[3:].partition(" ")
        if code not in REFUSAL_CODES:
            raise ProtocolError(f"unknown refusal code {code[:24]!r}")
        return Refusal(code, message)
    words = text.split(" ")
    if len(words) != 4 or words[0] != "OK":
        raise ProtocolError(f"expected 'OK <total> <offset> <count>', got {text[:60]!r}")
    total, offset, count = (
        _number(words[1], "total length"),
        _number(words[2], "offset"),
        _number(words[3], "count"),
    )
    if offset + count > total:
        raise ProtocolError(f"answer range {offset}+{count} lies outside a {total}-byte blob")
    return BlobAnswer(total, offset, count)


def resolve_range(total_length: int, offset: int, count: int | None) -> tuple[int, int]:
    """``(offset, count)`` actually served for a request on a ``total_length``-byte blob."""
    if offset > total_length or (offset == total_length and total_length > 0):
        raise RangeNotSatisfiableError(f"offset {offset} is past the end ({total_length} bytes)")
    available = total_length - offset
    if count is None:
        return offset, available
    if count > available:
        raise RangeNotSatisfiableError(
            f"{count} bytes from {offset} pass the end ({total_length} bytes)"
        )
    return offset, count


def parse_http_range(header: str | None, total_length: int) -> tuple[int, int] | None:
    """The ``(offset, count)`` of a single ``Range: bytes=…`` header; None means the whole blob.

    Multiple ranges are not served (the whole blob is, as RFC 9110 allows);
    an unsatisfiable range raises :class:`RangeNotSatisfiableError`, and any
    other form — numbers of more than 19 digits, a last byte before the first,
    garbage, a header over ``MAX_RANGE_HEADER_CHARS`` — raises
    :class:`MalformedRangeError` (a seed answers ``400``, never guesses).
    """
    if header is None:
        return None
    if len(header) > MAX_RANGE_HEADER_CHARS:
        raise MalformedRangeError(f"a Range header is at most {MAX_RANGE_HEADER_CHARS} characters")
    if "," in header:
        return None
    match = _HTTP_RANGE.fullmatch(header.strip())
    if match is None:
        raise MalformedRangeError(f"Range {header[:40]!r} is not bytes=FIRST-LAST, FIRST- or -N")
    first, last = match.groups()
    if not first and not last:
        raise MalformedRangeError("Range 'bytes=-' names no bytes")
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or total_length == 0:
            raise RangeNotSatisfiableError("an empty suffix range")
        suffix = min(suffix, total_length)
        return total_length - suffix, suffix
    start = int(first)
    if start >= total_length:
        raise RangeNotSatisfiableError(f"offset {start} is past the end ({total_length} bytes)")
    end = min(int(last), total_length - 1) if last else total_length - 1
    if last and int(last) < start:
        raise MalformedRangeError(f"Range {header[:40]!r} ends before it starts")
    return start, end - start + 1


# --- conditional GET of a seed's metadata copy ---

MAX_IF_NONE_MATCH_CHARS = 1024


def metadata_etag(data: bytes) -> str:
    """The strong ETag of a metadata copy: its BLAKE3, quoted (it changes with any byte)."""
    return f'"{blake3_hex(data)}"'


def matches_if_none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (RFC 9110 §13.1.2, weak comparison).

    ``*`` matches any current copy.  A missing, empty or oversized value never
    matches: the answer is then the whole copy, never a wrong 304.
    """
    if not header or len(header) > MAX_IF_NONE_MATCH_CHARS:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == wanted for candidate in header.split(","))
