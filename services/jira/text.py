"""Text as Jira takes it: summaries and names within 255 characters, wiki markup within
32,767 and still well formed when cut, labels without whitespace."""

from __future__ import annotations

import re
from typing import Any

from services.core.markup import display_name
from services.core.text_limits import cut_title, truncation_note
from services.jira.wiki import cut_wiki, html_to_wiki

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


def fit_wiki(wiki: str, limit: int = TEXT_LIMIT, url: Any = None) -> str:
    """Wiki markup within ``limit``; when cut, no block, link or image is left open, and
    the core's note after a blank line says where the whole text is in Aha!."""
    return cut_wiki(wiki, limit, note="\n\n" + truncation_note(str(url) if url else None))


def wiki_text(html: Any, limit: int = TEXT_LIMIT, url: Any = None) -> str:
    """Aha!'s HTML as wiki markup within ``limit`` (see ``fit_wiki``)."""
    return fit_wiki(html_to_wiki(str(html or "")), limit, url)


def summary(record: Any) -> str:
    """The record's name, else its description's first sentence, within Jira's limit."""
    return cut_title(display_name(record), SUMMARY_LIMIT)


def description(record: Any) -> str:
    """The description as wiki markup within Jira's limit."""
    return wiki_text((record.get("description") or {}).get("body"), TEXT_LIMIT, record.get("url"))


def label(tag: Any) -> str:
    """A tag as a Jira label: whitespace becomes ``_`` (Jira refuses spaces)."""
    return cut_title(re.sub(r"\s+", "_", str(tag).strip()), LABEL_LIMIT)
