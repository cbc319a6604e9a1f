"""Text cut to what a third party takes, so that an over-long record is sent shortened
instead of being refused for ever.

A service declares its limits as data (``field_limits``: field -> maximum length);
the helpers here cut a title with an ellipsis, a body with a note saying where the
whole text is, and the strings of a JSON message until its encoding fits. A cut
never leaves a tag, an entity or a Markdown link unfinished, nor a code block open:
the note after it must show as text.

Lengths are counted in UTF-16 code units: never fewer than characters, so a limit
in characters holds too, and the unit that JavaScript-based services count in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

ELLIPSIS = "…"
# Strings shorter than this are never cut to make a JSON message fit.
SHORTEST_CUT = 100
_MAX_ROUNDS = 50
# What a cut may leave unfinished at the end of a text, dropped from it: an HTML tag (or
# Slack's ``<url|text>``), an entity, a Markdown link or image whose target is cut.
_OPEN_TAG = re.compile(r"<[A-Za-z/!][^<>\n]*$")
_OPEN_ENTITY = re.compile(r"&#?[A-Za-z0-9]{0,8}$")
_OPEN_LINK = re.compile(r"!?\[[^\[\]\n]*\]\([^)\n]*$")
# A Markdown code fence: three or more backticks or tildes, indented at most three spaces.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def text_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` within ``units`` UTF-16 code units."""
    if units <= 0:
        return ""
    if text_length(text) == len(text):
        return text[:units]
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


def _clean_end(text: str) -> str:
    """The cut text without a tag, an entity or a Markdown link left open at its end, nor
    trailing blanks. A ``<`` or ``&`` that starts no tag or entity (``a < b``, ``R&D team``)
    is text, and what follows it stays."""
    for unfinished in (_OPEN_TAG, _OPEN_ENTITY, _OPEN_LINK):
        text = unfinished.sub("", text)
    return text.rstrip()


def _open_fence(text: str) -> str | None:
    """The fence (```` ``` ```` or ``~~~``) of a Markdown code block left open at the end
    of ``text``, or None."""
    fence: str | None = None
    for line in text.splitlines():
        marker = _FENCE.match(line)
        if not marker:
            continue
        run = marker[1]
        if fence is None:
            fence = run
        elif run[0] == fence[0] and len(run) >= len(fence) and not line.strip()[len(run) :]:
            fence = None
    return fence


def _cut(text: str, units: int) -> str:
    """The longest clean start of ``text`` within ``units``; a code block it cuts is
    closed, so that what follows the cut is not shown as code."""
    cut = _clean_end(_prefix(text, units))
    fence = _open_fence(cut)
    if fence is None:
        return cut
    closing = f"\n{fence}\n"
    cut = _clean_end(_prefix(text, units - text_length(closing)))
    fence = _open_fence(cut)
    return f"{cut}\n{fence}\n" if fence else cut


def truncation_note(url: str | None) -> str:
    """What ends a cut text: where the whole of it can be read, when that is known."""
    if url:
        return f"{ELLIPSIS} (truncated: the full text is in Aha! {url})"
    return f"{ELLIPSIS} (truncated)"


def cut_title(text: str, limit: int | None) -> str:
    """``text`` within ``limit``, ending with an ellipsis when it had to be cut."""
    if limit is None or text_length(text) <= limit:
        return text
    return _cut(text, limit - 1) + ELLIPSIS


def cut_text(
    text: str,
    limit: int | None,
    *,
    url: str | None = None,
    keep: str = "",
    separator: str = "\n\n",
) -> str:
    """``text``, then ``keep`` after ``separator``, within ``limit``.

    When the whole is too long, ``text`` is cut and ends with the truncation note, and
    ``keep`` (the line saying where the record came from) stays whole after it.
    """
    whole = separator.join(part for part in (text, keep) if part)
    if limit is None or text_length(whole) <= limit:
        return whole
    tail = separator + keep if keep else ""
    for note in dict.fromkeys((truncation_note(url), truncation_note(None))):
        room = limit - text_length(note) - text_length(tail)
        if room >= 0:
            return _cut(text, room) + note + tail
    return cut_title(whole, limit)


def _is_address(text: str) -> bool:
    return text.startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _longest_text(value: Any) -> tuple[Any, Any, str] | None:
    """``(container, key, text)`` of the longest string in a JSON value that may be cut."""
    best: tuple[Any, Any, str] | None = None
    best_size = SHORTEST_CUT - 1
    stack = [value]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            items: Any = container.items()
        elif isinstance(container, list):
            items = enumerate(container)
        else:
            continue
        for key, item in items:
            if isinstance(item, dict | list):
                stack.append(item)
            elif isinstance(item, str) and not _is_address(item):
                size = len(json.dumps(item))
                if size > best_size:
                    best, best_size = (container, key, item), size
    return best


def fit_json(message: Any, limit: int | None, *, url: str | None = None) -> Any:
    """``message`` whose JSON encoding (as requests sends it) is within ``limit`` characters.

    The longest strings are cut first, each ending with the truncation note; addresses
    and short strings are left whole. A message that cannot be made to fit is returned
    as cut as it could be, and the third party will say so.
    """
    if limit is None or len(json.dumps(message)) <= limit:
        return message
    message = json.loads(json.dumps(message))
    for _ in range(_MAX_ROUNDS):
        excess = len(json.dumps(message)) - limit
        if excess <= 0:
            break
        found = _longest_text(message)
        if found is None:
            break
        container, key, text = found
        target = max(SHORTEST_CUT // 2, text_length(text) - excess)
        container[key] = cut_text(text, target, url=url)
    return message


class TextLimits:
    """The field limits a service declares, and the cuts that apply them."""

    # Field -> the most characters the third party takes in it; a field not named has none.
    field_limits: ClassVar[Mapping[str, int]] = {}

    def fit_title(self, field: str, text: str) -> str:
        """A one-line field (a title, a name) within its limit, ending with an ellipsis."""
        return cut_title(text, self.field_limits.get(field))

    def fit_text(self, field: str, text: str, *, url: Any = None, keep: str = "") -> str:
        """A body within its limit: ``text`` is cut with a note pointing at ``url``, and
        ``keep`` (the origin line) stays whole at the end."""
        limit = self.field_limits.get(field)
        return cut_text(text, limit, url=str(url) if url else None, keep=keep)
