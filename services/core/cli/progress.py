"""Progress of a long-running command, on standard error, only when it is a terminal.

A pipe or a file gets nothing extra, so what a script reads from standard error stays
the command's own lines. On a terminal one line is rewritten in place (at most ten
times a second) and ended when the work is done.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

T = TypeVar("T")
# Seconds between two redraws of the line.
REDRAW = 0.1


class Progress:
    """``label: done/total`` (or ``label: done``) while a command works through items."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None):
        self.label, self.total, self.done = label, total, 0
        self._stream = sys.stderr if stream is None else stream
        self.shown = _is_terminal(self._stream)
        self._drawn_at: float | None = None

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done; redraw the line when it is time."""
        self.done += count
        now = time.monotonic()
        if self.shown and (self._drawn_at is None or now - self._drawn_at >= REDRAW):
            self._draw()
            self._drawn_at = now

    def counted(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` as they come, each one counted."""
        for item in items:
            yield item
            self.advance()

    def close(self) -> None:
        """Draw the final count and end the line (nothing when nothing was shown)."""
        if self.shown and self._drawn_at is not None:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()
            self._drawn_at = None

    def _draw(self) -> None:
        count = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        self._stream.write(f"\r{self.label}: {count}")
        self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
