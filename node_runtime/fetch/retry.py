"""Retries as a wrapper: any :class:`Fetcher` behind bounded retries with backoff.

:class:`Retrying` asks its inner fetcher again when it raises
:class:`~node_runtime.fetch.fetcher.TransientDownloadError` (a timeout, a
dropped connection, HTTP 429 or 5xx) — never after "no such file" or a
length violation — waiting an exponential backoff with jitter between
attempts.  A retry after some bytes were delivered resumes the stream: the
retried attempt's first bytes must be exactly the ones delivered already
(their BLAKE3 is compared) and are not delivered twice; a file that changed
in between is refused.  An optional deadline bounds everything, retries and
waits included, from the wrapper's creation.

Each retry is counted in ``retries`` (and in ``stats.retries`` when a
:class:`FetchStats` is shared) and reported as one line to ``report``.

Public API: ``RetryPolicy``, ``FetchStats``, ``Retrying(inner, policy=None,
sleep=time.sleep, report=None, deadline_seconds=None, clock=time.monotonic,
stats=None)`` with ``stream``, ``run(url, operation)`` (any one-attempt
operation under the same retries) and ``close()``.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import blake3 as blake3_module

from node_runtime.fetch.fetcher import (
    FIRST_ATTEMPT,
    Attempt,
    DownloadError,
    Fetcher,
    TransientDownloadError,
    closable,
)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # the first try included
    first_backoff_seconds: float = 0.25
    max_backoff_seconds: float = 4.0

    def backoff_seconds(self, failed_attempts: int) -> float:
        """Exponential backoff with "full jitter" after ``failed_attempts`` failures."""
        ceiling = min(
            self.max_backoff_seconds, self.first_backoff_seconds * 2 ** (failed_attempts - 1)
        )
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy


@dataclass
class FetchStats:
    requests: int = 0
    bytes_received: int = 0
    not_modified: int = 0
    retries: int = 0


class Retrying(Fetcher):
    """``inner`` asked again on transient failures, within ``policy`` and the deadline."""

    def __init__(
        self,
        inner: Fetcher,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        report: Callable[[str], None] | None = None,
        deadline_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        stats: FetchStats | None = None,
    ) -> None:
        """``report`` hears one line per retry as it happens; ``deadline_seconds`` bounds
        everything this fetcher does, retries and waits included, from its creation."""
        self.inner = inner
        self.retry = policy or RetryPolicy()
        self.stats = stats or FetchStats()
        self._sleep = sleep
        self._report = report
        self._clock = clock
        self._deadline_seconds = deadline_seconds
        self._deadline = None if deadline_seconds is None else clock() + deadline_seconds

    @property
    def retries(self) -> int:
        return self.stats.retries

    def close(self) -> None:
        self.inner.close()

    def _attempt(self, number: int, url: str) -> Attempt:
        if self._deadline is None:
            return Attempt(number)
        left = self._deadline - self._clock()
        if left <= 0:
            raise self._past_deadline(url, "no answer in time")
        return Attempt(number, left)

    def _past_deadline(self, url: str, reason: str) -> DownloadError:
        return DownloadError(
            f"{url}: {reason} (gave up: the {self._deadline_seconds:g} s deadline passed)"
        )

    def _after_failure(self, url: str, failures: int, error: TransientDownloadError) -> None:
        """Wait before the next attempt, or raise: out of attempts, or past the deadline."""
        reason = error.reason
        if failures >= self.retry.attempts:
            raise DownloadError(f"{url}: {reason} (gave up after {failures} attempts)") from None
        wait = self.retry.backoff_seconds(failures)
        if self._deadline is not None and self._clock() + wait >= self._deadline:
            raise self._past_deadline(url, reason) from None
        if self._report is not None:
            self._report(
                f"retrying {url}: {reason} (attempt {failures + 1} of "
                f"{self.retry.attempts} in {wait:.1f} s)"
            )
        self.stats.retries += 1
        self._sleep(wait)

    def run(self, url: str, operation: Callable[[Attempt], T]) -> T:
        """``operation`` (one attempt at ``url``) under this wrapper's retries."""
        failures = 0
        while True:
            try:
                return operation(self._attempt(failures + 1, url))
            except TransientDownloadError as error:
                failures += 1
                self._after_failure(url, failures, error)

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        delivered = 0
        delivered_hash = blake3_module.blake3()
        failures = 0
        while True:
            try:
                chunks = self.inner.stream(url, max_length, self._attempt(failures + 1, url))
                with contextlib.closing(closable(chunks)) as attempt_chunks:
                    to_skip = delivered
                    again = blake3_module.blake3()
                    for chunk in attempt_chunks:
                        if to_skip:
                            repeated = chunk[:to_skip]
                            again.update(repeated)
                            to_skip -= len(repeated)
                            chunk = chunk[len(repeated) :]
                            if not to_skip and again.digest() != delivered_hash.digest():
                                raise DownloadError(f"{url}: changed while it was being downloaded")
                            if not chunk:
                                continue
                        delivered_hash.update(chunk)
                        delivered += len(chunk)
                        yield chunk
                if to_skip:
                    raise DownloadError(f"{url}: changed while it was being downloaded")
                return
            except TransientDownloadError as error:
                failures += 1
                self._after_failure(url, failures, error)
