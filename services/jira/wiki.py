"""Aha!'s HTML as Jira wiki markup, the text format of Jira's REST API v2, and wiki
markup cut to a field's limit without leaving a block or a link open.

The converter (and BeautifulSoup under it) is imported on the first conversion:
the proxy starts with every service loaded, and most events convert no text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from services.core.lean_imports import lean_import
from services.core.text_limits import ELLIPSIS, text_length

# Blocks whose content Jira shows as typed: only their own closing tag ends them.
_VERBATIM_BLOCKS = ("code", "noformat")
_TOKEN = re.compile(
    r"\\.|\{(code|noformat|quote|panel|color)(:[^}\n]*)?\}|\{\{|\}\}|[\[\]!{\n]", re.S
)
# How far back a cut looks for a space, so as not to end inside a word.
_WORD_WINDOW = 100


def html_to_wiki(html: str | None) -> str:
    """Jira wiki markup for Aha!'s HTML; no HTML gives an empty string."""
    if not html or not str(html).strip():
        return ""
    lean_import("bs4")
    from services.jira.wiki_html import convert

    return convert(str(html))


def _index(text: str, units: int) -> int:
    """The end of the longest start of ``text`` within ``units`` UTF-16 code units."""
    if text_length(text) == len(text):
        return max(0, min(units, len(text)))
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


class _Open(NamedTuple):
    name: str
    start: int  # where its opening tag starts
    body: int  # where its content starts


def _scan(text: str) -> tuple[list[_Open], int | None]:
    """The blocks and colours still open at the end of ``text``, and where an
    unfinished link, image, ``{{monospace}}`` or macro tag starts on its last line."""
    opened: list[_Open] = []
    starts: dict[str, int] = {}
    position = 0
    while position < len(text):
        if opened and opened[-1].name in _VERBATIM_BLOCKS:
            closing = text.find("{" + opened[-1].name + "}", position)
            if closing < 0:
                return opened, None
            position = closing + len(opened.pop().name) + 2
            continue
        token = _TOKEN.search(text, position)
        if token is None:
            break
        position, value, name = token.end(), token.group(), token.group(1)
        names = [block.name for block in opened]
        if value == "\n":
            starts.clear()
        elif name and (name in _VERBATIM_BLOCKS or token.group(2) or name not in names):
            if name != "color" or token.group(2):  # a bare {color} opens nothing
                opened.append(_Open(name, token.start(), position))
        elif name:  # a bare {quote}, {panel} or {color} closes the one open
            del opened[len(names) - 1 - names[::-1].index(name)]
        elif value in ("[", "{{"):
            starts.setdefault(value, token.start())
        elif value in ("]", "}}"):
            starts.pop("[" if value == "]" else "{{", None)
        elif value == "!":
            if "!" in starts:
                del starts["!"]
            elif text[position : position + 1].strip() and not _after_word(text, token.start()):
                starts["!"] = token.start()
        elif value == "{" and text.find("}", position, _line_end(text, position)) < 0:
            starts["{"] = token.start()
    return opened, min(starts.values(), default=None)


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _after_word(text: str, index: int) -> bool:
    return index > 0 and (text[index - 1].isalnum() or text[index - 1] == "_")


def _closing(opened: list[_Open]) -> str:
    return "".join(
        "{color}" if block.name == "color" else f"\n{{{block.name}}}" for block in opened[::-1]
    )


def _head(text: str, end: int) -> tuple[str, list[_Open]]:
    """The start of ``text`` up to about ``end`` that ends between words, outside any
    link, image or tag, and not right after a block's opening tag; with the blocks
    left open in it."""
    if 0 < end < len(text) and not text[end].isspace() and not text[end - 1].isspace():
        space = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end))
        if space > max(0, end - _WORD_WINDOW):
            end = space
    while True:
        head = text[:end]
        if (len(head) - len(head.rstrip("\\"))) % 2:  # a backslash without what it escapes
            end -= 1
            continue
        opened, unfinished = _scan(head)
        if unfinished is not None:
            end = unfinished
        elif opened and not head[opened[-1].body :].strip():
            end = opened[-1].start  # an empty block is left out, not opened and closed
        else:
            return head.rstrip(), opened


def cut_wiki(text: str, limit: int, note: str = ELLIPSIS) -> str:
    """``text`` within ``limit`` UTF-16 code units, as Jira (Java) counts its limits
    (32,767 for a text field).

    When it is longer, it is cut between words, never inside a link, an image or a
    ``{{monospace}}`` span; a ``{code}``, ``{noformat}``, ``{quote}``, ``{panel}`` or
    ``{color}`` left open is closed; then ``note`` follows, as given.
    """
    if text_length(text) <= limit:
        return text
    if text_length(note) > limit:
        note = ""
    end = _index(text, limit - text_length(note))
    while True:
        head, opened = _head(text, end)
        ending = _closing(opened) + note
        excess = text_length(head) + text_length(ending) - limit
        if excess <= 0:
            return head + ending
        end = _index(head, text_length(head) - excess)
