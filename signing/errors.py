"""The errors of the trust layer.

Every failure the client can meet derives from :class:`TufError`, so a caller
(the updater, the conformance command line, the node agent) can refuse any
untrusted input with one ``except`` clause and still tell the causes apart:

- :class:`RepositoryError` — the repository's metadata or artifacts failed a
  check (format, signatures, versions, expiry, lengths, hashes);
- download errors (``node_runtime.fetch.fetcher.DownloadError``) derive from
  :class:`TufError` too.
"""

from __future__ import annotations


class TufError(Exception):
    """Base of every error the TUF client raises on purpose."""


class RepositoryError(TufError):
    """Metadata or an artifact from the repository cannot be trusted."""


class MetadataFormatError(RepositoryError):
    """The bytes are not well-formed TUF metadata of the expected type."""


class UnsignedMetadataError(RepositoryError):
    """Fewer distinct keys than the role's threshold signed the metadata."""


class BadVersionNumberError(RepositoryError):
    """A version is lower than one already trusted, or not the one expected."""


class EqualVersionNumberError(BadVersionNumberError):
    """The new timestamp has the same version as the trusted one."""


class ExpiredMetadataError(RepositoryError):
    """The metadata expired before the client's reference time."""


class LengthOrHashMismatchError(RepositoryError):
    """Bytes do not have the length or the hashes that metadata promised."""


class UnknownHashAlgorithmError(LengthOrHashMismatchError):
    """Metadata names a hash algorithm this client does not implement."""
