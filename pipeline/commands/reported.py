"""``Reported``: a ``Refused`` that prints its own lines, for refusals with several reasons.

A plain ``Refused`` prints ``error: MESSAGE``.  Some refusals say more than one thing:
a manifest with three problems prints three lines, a refused build prints its
problems and then ``build refused (N errors); nothing was written``, and a command
that already printed its verdict (a validation report, a ``--json`` document on
stdout) has nothing to add on stderr.  ``Reported`` carries those lines exactly; the
one place that maps refusals (``catalog.command_group``) prints them and exits 1.

Pure: no I/O, no click.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog.refusal import Refused


class Reported(Refused):
    """Refused; ``shown`` are the exact lines printed on stderr (none when already reported)."""

    def __init__(self, message: str, shown: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.shown = list(shown)

    def lines(self) -> list[str]:
        return list(self.shown)
