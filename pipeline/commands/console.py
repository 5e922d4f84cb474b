"""The two consoles every ``archy`` command prints to: results on stdout, the rest on stderr.

``highlight=False`` and ``soft_wrap=True`` so a path or an id is printed whole and
uncoloured; rich drops the styles when the stream is not a terminal.
"""

from __future__ import annotations

from rich.console import Console

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
