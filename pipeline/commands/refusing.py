"""``@refusing(…)``: a command's library errors become ``Refused``, and ``--json`` sees them too.

Library errors that do not derive from ``catalog.refusal.Refused`` yet (the
ceremony's, publishing's) are named by the command that can meet them and raised
again as a ``Refused`` with the same text, so ``catalog.command_group`` prints
``error: …`` and exits 1.  With ``--json``, any refusal also prints
``{"ok": false, "error": MESSAGE}`` on stdout first, for scripts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from catalog.refusal import Refused

F = TypeVar("F", bound=Callable[..., Any])


def refusing(*errors: type[Exception]) -> Callable[[F], F]:
    """Decorate a click command whose library raises ``errors`` for refused input."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                try:
                    return function(*args, **kwargs)
                except errors as error:
                    raise Refused(str(error)) from None
            except Refused as refusal:
                if kwargs.get("as_json"):
                    click.echo(json.dumps({"ok": False, "error": refusal.message}))
                raise

        return wrapper  # type: ignore[return-value]

    return decorate
