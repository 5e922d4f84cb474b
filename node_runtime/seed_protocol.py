"""REDESIGN-SHIM: moved to node_runtime/fetch/; removed at the merge."""

from node_runtime.fetch.seed_protocol import ALPN as ALPN
from node_runtime.fetch.seed_protocol import MAX_HEADER_BYTES as MAX_HEADER_BYTES
from node_runtime.fetch.seed_protocol import MAX_RANGE_HEADER_CHARS as MAX_RANGE_HEADER_CHARS
from node_runtime.fetch.seed_protocol import MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from node_runtime.fetch.seed_protocol import REFUSAL_CODES as REFUSAL_CODES
from node_runtime.fetch.seed_protocol import BlobAnswer as BlobAnswer
from node_runtime.fetch.seed_protocol import BlobRequest as BlobRequest
from node_runtime.fetch.seed_protocol import MalformedRangeError as MalformedRangeError
from node_runtime.fetch.seed_protocol import ProtocolError as ProtocolError
from node_runtime.fetch.seed_protocol import RangeNotSatisfiableError as RangeNotSatisfiableError
from node_runtime.fetch.seed_protocol import Refusal as Refusal
from node_runtime.fetch.seed_protocol import decode_request as decode_request
from node_runtime.fetch.seed_protocol import decode_response_header as decode_response_header
from node_runtime.fetch.seed_protocol import encode_answer as encode_answer
from node_runtime.fetch.seed_protocol import encode_refusal as encode_refusal
from node_runtime.fetch.seed_protocol import encode_request as encode_request
from node_runtime.fetch.seed_protocol import parse_http_range as parse_http_range
from node_runtime.fetch.seed_protocol import resolve_range as resolve_range
from node_runtime.fetch.seed_protocol import split_header as split_header
