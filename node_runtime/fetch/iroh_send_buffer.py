"""A fast send buffer for the iroh Python binding (iroh 1.2.0, uniffi-generated).

Upstream behaviour worked around: the uniffi-generated
``iroh.iroh_ffi._UniffiRustBufferBuilder.write`` copies every byte handed to
Rust (``SendStream.write_all`` / ``write``) with a Python loop —
``for i, byte in enumerate(value): self.rbuf.data[self.rbuf.len + i] = byte`` —
which caps a send at about 5 MiB/s.  :func:`install_fast_send_buffer` replaces
that one method with a single ``ctypes.memmove`` into the same Rust buffer
(same reservation, same length bookkeeping), about 20 times faster.

Only this method is replaced; if a future binding no longer has it (or has
changed its shape), nothing is patched and :func:`install_fast_send_buffer`
returns False, so the binding stays correct, only slow.

Public API: ``install_fast_send_buffer() -> bool``, ``is_installed() -> bool``.
"""

from __future__ import annotations

import ctypes
from typing import Any

_PATCH_MARKER = "_archy_memmove_write"


def _memmove_write(builder: Any, value: Any) -> None:
    """Append ``value`` (any bytes-like object) to the builder's Rust buffer with one copy."""
    data = value if isinstance(value, bytes) else bytes(value)
    size = len(data)
    with builder._reserve(size):
        if size:
            base = ctypes.cast(builder.rbuf.data, ctypes.c_void_p).value
            assert base is not None
            ctypes.memmove(base + builder.rbuf.len, data, size)


setattr(_memmove_write, _PATCH_MARKER, True)


def _builder_class() -> Any:
    from iroh import iroh_ffi

    return getattr(iroh_ffi, "_UniffiRustBufferBuilder", None)


def is_installed() -> bool:
    builder = _builder_class()
    return builder is not None and getattr(builder.write, _PATCH_MARKER, False)


def install_fast_send_buffer() -> bool:
    """Patch the binding's buffer writer (idempotent); False if the binding has no such writer."""
    builder = _builder_class()
    if builder is None or not hasattr(builder, "_reserve") or not hasattr(builder, "write"):
        return False
    if not getattr(builder.write, _PATCH_MARKER, False):
        builder.write = _memmove_write
    return True
