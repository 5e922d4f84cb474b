"""``Refused``: the one error type a command-level refusal raises, in both programs.

A refusal is the program saying no to its input: a manifest that breaks a rule, a
catalog that does not verify, a registry that does not answer.  It is not a crash.
Every command of ``archy`` and ``archy-node`` maps it the same way, in one place
(``catalog.command_group``): one line ``error: MESSAGE`` on stderr (plus
``hint: HINT`` when there is one), exit code 1, no traceback.  Feature modules define
their own subclasses (``InstallRefused``, ``BuildRefused`` …) so callers can catch
the narrow kind, and the command layer never needs a list of them.

Pure: no I/O, no click.
"""

from __future__ import annotations


class Refused(Exception):
    """The input was refused; ``message`` says why, ``hint`` (optional) what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def lines(self) -> list[str]:
        """What a command prints for it, one entry per line."""
        shown = [f"error: {self.message}"]
        if self.hint:
            shown.append(f"hint: {self.hint}")
        return shown
