"""Text as Jira takes it: summaries and names within 255 characters, wiki markup within
32,767 and still well formed when cut, labels without whitespace."""

from __future__ import annotations

import re
from typing import Any

from services.core.markup import display_name
from services.core.text_limits import cut_title, text_length, truncation_note
from services.jira.wiki import html_to_wiki

SUMMARY_LIMIT = 255
LABEL_LIMIT = 255
TEXT_LIMIT = 32767
FIELD_LIMITS = {
    "summary": SUMMARY_LIMIT,
    "name": SUMMARY_LIMIT,
    "labels": LABEL_LIMIT,
    "description": TEXT_LIMIT,
    "comment": TEXT_LIMIT,
}
_BLOCKS = re.compile(r"\{(code|noformat|quote|panel)(?::[^}]*)?\}")


def _close_blocks(text: str) -> str:
    """The cut text ending outside any ``{code}``-like block and any link or image."""
    opened: list[tuple[str, int]] = []
    for match in _BLOCKS.finditer(text):
        if opened and opened[-1][0] == match.group(1):
            opened.pop()
        else:
            opened.append((match.group(1), match.start()))
    if opened:
        text = text[: opened[0][1]]
    last_line = text.rsplit("\n", 1)[-1]
    for start, end in (("[", "]"), ("{{", "}}")):
        if last_line.rfind(start) > last_line.rfind(end):
            text = text[: len(text) - len(last_line) + last_line.rfind(start)]
            last_line = text.rsplit("\n", 1)[-1]
    if last_line.count("!") % 2:
        text = text[: len(text) - len(last_line) + last_line.rfind("!")]
    return text.rstrip()


def cut_wiki(text: str, limit: int, url: Any = None) -> str:
    """Wiki markup within ``limit``, cut with the core's note pointing at the whole text
    in Aha!, no block, link or image left open by the cut."""
    if text_length(text) <= limit:
        return text
    note = truncation_note(str(url) if url else None)
    return _close_blocks(text[: limit - text_length(note) - 2]) + "\n\n" + note


def summary(record: Any) -> str:
    """The record's name, else its description's first sentence, within Jira's limit."""
    return cut_title(display_name(record), SUMMARY_LIMIT)


def description(record: Any) -> str:
    """The description as wiki markup within Jira's limit."""
    body = (record.get("description") or {}).get("body") or ""
    return cut_wiki(html_to_wiki(body), TEXT_LIMIT, record.get("url"))


def label(tag: Any) -> str:
    """A tag as a Jira label: whitespace becomes ``_`` (Jira refuses spaces)."""
    return cut_title(re.sub(r"\s+", "_", str(tag).strip()), LABEL_LIMIT)
