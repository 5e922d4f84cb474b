"""Tables that survive a pipe: rich boxes on a terminal, plain tab-separated rows elsewhere.

A rich table squeezed to 80 columns cuts cells ("targets-v1-05…"), and a cut
id pasted back is not an id.  When stdout is not a terminal every cell is
printed whole, one row per line, columns separated by a tab, markup removed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text


def plain(cell: RenderableType) -> str:
    """The text of a cell (``[green]ok[/green]`` -> ``ok``)."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def plain_lines(table: Table) -> list[str]:
    """The table as plain lines: its title, the header, then one tab-separated line a row."""
    columns = table.columns
    rows: list[Sequence[RenderableType]] = [
        [column._cells[index] for column in columns] for index in range(table.row_count)
    ]
    title = [plain(table.title)] if table.title is not None else []
    header = "\t".join(plain(column.header) for column in columns)
    return [*title, header, *("\t".join(plain(cell) for cell in row) for row in rows)]


def print_table(console: Console, table: Table) -> None:
    """Print a boxed table on a terminal, plain full-width rows otherwise."""
    if console.is_terminal:
        console.print(table)
        return
    for line in plain_lines(table):
        console.file.write(line + "\n")  # not console.print: it would expand the tabs


def short_id(value: str, length: int, console: Console) -> str:
    """An id cut to ``length`` for a person at a terminal, whole in a pipe."""
    return value[:length] if console.is_terminal else value
