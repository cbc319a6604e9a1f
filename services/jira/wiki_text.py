"""Jira wiki markup's rules for plain text: what must be escaped, how marks and colours
wrap a run of text, and Aha!'s colours in Jira's palette.

Jira reads a mark character (``*bold*``, ``-deleted-``, ...) as an opening mark when
it follows a non-word character and precedes a non-space, and as a closing one when
it follows a non-space and precedes a non-word character; only those are escaped,
so ``snake_case`` or ``well-known`` stay as typed.
"""

from __future__ import annotations

import re

# Sentinels the converter writes and resolves before it answers; they never come from
# the input, which has its control characters removed. None is whitespace to Python.
ITEM = "\x01"  # starts a line that a list item wrote
INDENT = "\x02"  # two spaces before a line that continues a list item
LINE_START = "\x03"  # before text that is markup when it starts a line
BANG = "\x04"  # after a "!" that opens an image if a non-space and a "!" follow
VERBATIM = re.compile("\x05(\\d+)\x06")  # a {noformat} block kept aside
LINE = "\x07"  # ends or starts a line without making a blank one

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HTML_SPACE = re.compile(r"[ \t\n\r\f]+")

_MARK_RUN = re.compile(r"([*_+^~?-])\1*")
_ALWAYS = re.compile(r"[{}\[\]|]")
# Jira's icons: "(i)" in a sentence would show an information sign.
_ICON = re.compile(r"\((?=(?:[yni/x!?+*-]|on|off|\*[rgb])\))")
_BLOCK_START = re.compile(r"^(\s*)(?=[*#-]+(?:\s|$)|----)")
# Jira writes an em dash "---" and an en dash "--" where no letter touches them.
_DASH = re.compile(r"(?<!\w)[\u2013\u2014](?!\w)")
_DASH_MARKUP = {"\u2014": "---", "\u2013": "--"}

# Aha!'s editor palette and the Jira colour that stands for each.
AHA_TO_JIRA_COLOURS = {
    "#D50000": "#d04437",
    "#000000": "#333333",
    "#999999": "#707070",
    "#0073CF": "#59afe1",
    "#64B80B": "#8eb021",
    "#F9931A": "#f79232",
}
_HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
_RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,[^)]*)?\)", re.I)
_NAMED = re.compile(r"[a-zA-Z]{3,}")
_NOT_COLOURS = {"inherit", "initial", "unset", "revert", "transparent", "currentcolor"}


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _escape_run(match: re.Match[str]) -> str:
    run, text = match.group(), match.string
    # Outside this text node the neighbour is unknown: assume the one that makes markup.
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end()] if match.end() < len(text) else ""
    if run[0] == "?" and len(run) == 1:
        return run
    if run[0] == "-" and len(run) in (2, 3) and not _is_word(before) and not _is_word(after):
        return run  # Jira's en and em dashes
    opens = not _is_word(before) and not after.isspace()
    closes = not before.isspace() and not _is_word(after)
    return "".join("\\" + char for char in run) if opens or closes else run


def escape(text: str) -> str:
    """A run of plain text as wiki markup that shows it as typed.

    Marks Jira would read are escaped; a list or rule character that would start
    a line is flagged with ``LINE_START`` and a ``!`` that may open an image with ``BANG``, for
    ``settle`` to decide once the whole line is known.
    """
    text = _ALWAYS.sub(lambda m: "\\" + m.group(), text)
    text = _ICON.sub(r"\\(", text)
    text = _MARK_RUN.sub(_escape_run, text)
    text = re.sub(r"(?<!\w)!", "!" + BANG, text)  # after a letter, "!" opens no image
    text = _BLOCK_START.sub(lambda m: m.group(1) + LINE_START, text, count=1)
    # A dash that may start a line stays as typed: "-- " there would begin a list.
    lead = len(text) - len(text.lstrip())
    return _DASH.sub(lambda m: m.group() if m.start() <= lead else _DASH_MARKUP[m.group()], text)


def settle(text: str) -> str:
    """The sentinels ``escape`` left, resolved: what they flag is escaped where it
    begins a line, or could open an image, and left as typed elsewhere."""
    text = re.sub(f"(^|\n)([ {INDENT}{ITEM}]*){LINE_START}", r"\1\2\\", text)
    text = re.sub(f"!{BANG}(?=[^\\s{BANG}][^\n]*!)", r"\\!", text)
    return text.replace(LINE_START, "").replace(BANG, "")


def _is_aside(line: str) -> bool:
    """A line a mark must not wrap: a list line, a continuation, a kept block."""
    return line.startswith((ITEM, INDENT, "\x05"))


def wrap_lines(content: str, opening: str, closing: str) -> str:
    """``content`` between two marks on each of its lines (Jira's marks end at a line's
    end), with the spaces at its ends moved outside: Jira reads no ``* bold *``."""
    lines = []
    for line in content.replace(LINE, "\n").split("\n"):
        core = line.strip(" ")
        if not core or _is_aside(line):
            lines.append(line)
            continue
        before = " " if line.startswith(" ") else ""
        after = " " if line.endswith(" ") else ""
        lines.append(f"{before}{opening}{core}{closing}{after}")
    return "\n".join(lines)


def wrap_paragraphs(content: str, opening: str, closing: str) -> str:
    """``content`` between a macro's tags for each paragraph of it, for macros such as
    ``{color}`` that may span line breaks; paragraphs holding lists or kept blocks
    are left bare."""
    pieces = []
    for piece in content.replace(LINE, "\n").split("\n\n"):
        core = piece.strip(" \n")
        if not core or any(_is_aside(line) for line in piece.split("\n")):
            pieces.append(piece)
            continue
        start = piece.index(core)
        pieces.append(f"{piece[:start]}{opening}{core}{closing}{piece[start + len(core) :]}")
    return "\n\n".join(pieces)


def jira_colour(value: str | None) -> str | None:
    """A CSS colour as Jira's ``{color}`` takes it, Aha!'s palette mapped; ``None`` for
    what Jira cannot show (``inherit``, ``var(...)``)."""
    value = (value or "").strip()
    rgb = _RGB.fullmatch(value)
    if rgb:
        value = "#" + "".join(f"{min(int(part), 255):02X}" for part in rgb.groups())
    if _HEX.fullmatch(value):
        return AHA_TO_JIRA_COLOURS.get(value.upper(), value)
    if _NAMED.fullmatch(value) and value.lower() not in _NOT_COLOURS:
        return value
    return None
