"""An HTML table's rows as Jira wiki table lines: ``||header||`` and ``|cell|``, with the
places a spanning cell covers padded, so that every column stays in its place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# What pads the places a spanning cell covers: Jira shows an empty cell, and the two
# differ so that markup read back into HTML can rebuild the spans.
COLSPAN_PAD = "\ufeff"
ROWSPAN_PAD = "\ufeff\ufeff"


class Cell(NamedTuple):
    header: bool
    text: str
    colspan: int = 1
    rowspan: int = 1


def _line(cells: list[tuple[bool, str]]) -> str:
    """Each cell after its own separator; the row ends with its last cell's."""
    body = "".join(("||" if header else "|") + text for header, text in cells)
    return body + ("||" if cells[-1][0] else "|")


def table_lines(rows: Iterable[list[Cell]]) -> list[str]:
    """One line per row that has a cell or a place covered from the rows above."""
    covered: dict[int, tuple[int, bool]] = {}  # column -> (rows still covered, header)
    lines = []
    for row in rows:
        placed: dict[int, tuple[bool, str]] = {}
        starts: dict[int, tuple[int, bool]] = {}
        column = 0
        for cell in row:
            while column in covered:
                column += 1
            for offset in range(cell.colspan):
                placed[column + offset] = (cell.header, COLSPAN_PAD if offset else cell.text)
                if cell.rowspan > 1:
                    starts[column + offset] = (cell.rowspan - 1, cell.header)
            column += cell.colspan
        width = max([*placed, *covered], default=-1) + 1
        if width:
            lines.append(
                _line(
                    [
                        placed.get(c)
                        or ((covered[c][1], ROWSPAN_PAD) if c in covered else (False, " "))
                        for c in range(width)
                    ]
                )
            )
        covered = {c: (left - 1, h) for c, (left, h) in covered.items() if left > 1} | starts
    return lines
