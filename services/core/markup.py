"""Text conversions between Aha!'s HTML and what third parties speak.

markdownify and mistune are imported where they are used: the proxy starts
with every service loaded, and most events never convert any text.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from services.core.lean_imports import lean_import

if TYPE_CHECKING:
    from bs4 import Tag
    from markdownify import MarkdownConverter
    from mistune import Markdown as MarkdownRenderer

    # A markdownify ``convert_<tag>`` method, as a value shared by several tags.
    _Convert = Callable[[Any, Tag, str, set[str]], str]

DISPLAY_NAME_LIMIT = 200

# A Markdown code span: a run of backticks, then anything up to a run of the same
# length (a fence of three is one too). Its content shows literally, so an escape
# added inside would show as well.
_CODE_SPAN = re.compile(r"(?s)(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def escape_outside_code(text: str, escape: Callable[[str], str]) -> str:
    """``escape`` applied to the parts of ``text`` outside backtick code spans."""
    if "`" not in text:
        return escape(text)
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        pieces += [escape(text[last : span.start()]), span[0]]
        last = span.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


def slack_entities(text: str) -> str:
    """Slack's three control characters as entities; Slack needs them everywhere, code
    included, and shows them as the characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@cache
def code_safe_markdown() -> type[MarkdownConverter]:
    """markdownify's converter, escaping nothing inside a code span that the text types
    with backticks: every Markdown a service writes is built on it."""
    lean_import("bs4")
    from markdownify import MarkdownConverter

    class CodeSafeMarkdown(MarkdownConverter):
        def escape(self, text: str | None, parent_tags: set[str]) -> str:
            escape = super().escape  # type: ignore[misc]  # markdownify's stub omits escape
            return escape_outside_code(text or "", lambda part: escape(part, parent_tags))

    return CodeSafeMarkdown


@cache
def _converters() -> dict[str, Any]:
    lean_import("bs4")
    from markdownify import ATX, MarkdownConverter

    # A base class made on first use (markdownify is imported lazily), which mypy
    # cannot follow.
    class Markdown(code_safe_markdown()):  # type: ignore[misc]
        """Markdown; GitHub flavour adds ``~~strikethrough~~``."""

        def __init__(self, github: bool, **options: Any) -> None:
            super().__init__(**options)
            self.github = github

        def convert_del(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            if not text.strip():
                return text
            return f"~~{text}~~" if self.github else text

        convert_s = convert_del
        convert_strike = convert_del

    def _wrap(mark: str) -> _Convert:
        def convert(self: Any, el: Tag, text: str, parent_tags: set[str]) -> str:
            stripped = text.strip()
            return f"{mark}{stripped}{mark}" if stripped else text

        return convert

    def _keep_text(self: Any, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text

    _bare: _Convert = _keep_text

    class Plain(MarkdownConverter):
        """Formatted plain text: structure kept, markup dropped, links as ``text (url)``."""

        def escape(self, text: str | None, parent_tags: set[str]) -> str:
            return text or ""

        def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            href = el.get("href")
            if not href or href == text:
                return text
            return f"{text} ({href})" if text else str(href)

        convert_b = convert_strong = convert_i = convert_em = convert_code = _bare
        convert_del = convert_s = convert_strike = convert_sub = convert_sup = _bare

        def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
            return f"\n\n{text.strip()}\n\n" if text.strip() else ""

        def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return str(el.get("alt") or "")

        def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return f"\n\n{text}\n\n" if text else ""

        def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return "\n"

    class Slack(Plain):
        """Slack's mrkdwn: links as ``<url|text>``, emphasis kept, ``& < >`` as entities
        (in code too: they are Slack's control characters, not Markdown escapes)."""

        def escape(self, text: str | None, parent_tags: set[str]) -> str:
            return slack_entities(text or "")

        def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            href = el.get("href")
            if not href:
                return text
            return f"<{href}|{text}>" if text.strip() else f"<{href}>"

        convert_b = convert_strong = _wrap("*")
        convert_i = convert_em = _wrap("_")
        convert_del = convert_s = convert_strike = _wrap("~")

        def convert_code(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            if "pre" in parent_tags:
                return slack_entities(text)
            stripped = text.strip()
            return f"`{slack_entities(stripped)}`" if stripped else text

        def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            if not text:
                return ""
            if el.find("code") is None:
                text = slack_entities(text)
            return f"\n\n```\n{text.strip(chr(10))}\n```\n\n"

    common: dict[str, Any] = {"heading_style": ATX, "bullets": "*", "strip_document": "strip"}
    return {
        "markdown": lambda github: Markdown(github=github, escape_underscores=False, **common),
        "plain": Plain(**common),
        "slack": Slack(**common),
    }


def _squeeze(text: str, keep_hard_breaks: bool = False) -> str:
    if not keep_hard_breaks:
        text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str | None, github: bool = False) -> str:
    """Markdown from Aha!'s HTML; ``github`` adds GitHub's extensions."""
    if not html:
        return ""
    return _squeeze(_converters()["markdown"](github).convert(str(html)), keep_hard_breaks=True)


def html_to_plain(html: str | None) -> str:
    """Readable plain text from HTML, links kept as ``text (url)``."""
    if not html:
        return ""
    return _squeeze(_converters()["plain"].convert(str(html)))


def html_to_slack(html: str | None) -> str:
    """Slack markup from HTML, keeping links; deleted text is dropped."""
    if not html:
        return ""
    text = re.sub(r"(?is)<del\b[^>]*>.*?</del>", "", str(html))
    return _squeeze(_converters()["slack"].convert(text))


@cache
def _markdown_renderer() -> MarkdownRenderer:
    import mistune

    return mistune.create_markdown(
        escape=True, hard_wrap=True, plugins=["table", "url", "strikethrough"]
    )


_PRE_BLOCK = re.compile(r"(?s)(<pre\b.*?</pre>)")


def markdown_to_html(markdown: str | None) -> str:
    """HTML for Aha! from Markdown: tables, autolinks, and hard line breaks.

    Raw HTML inside the Markdown is escaped, not passed through.
    """
    if not markdown:
        return ""
    source = re.sub(r"[ \t]+$", "", str(markdown), flags=re.MULTILINE)
    # The HTML renderer gives text (other renderers give a token list).
    rendered = str(_markdown_renderer()(source))
    # Newlines between tags would turn into blank lines in Aha!'s editor; code keeps its own.
    pieces = _PRE_BLOCK.split(rendered)
    return "".join(p if p.startswith("<pre") else re.sub(r"\n\s*", "", p) for p in pieces)


def reference_num_to_resource_type(reference_num: str) -> str:
    """``releases``, ``requirements`` or ``features``, from the shape of a reference number."""
    ref = str(reference_num or "")
    if re.search(r"-(R|P)-(\d+|PL)$", ref):
        return "releases"
    if re.search(r"-\d+-\d+$", ref):
        return "requirements"
    return "features"


def description_to_title(body: str | None) -> str:
    """The first sentence of an HTML description, as plain text of at most 200 characters."""
    text = str(body or "")
    text = re.sub(r"(?s)\. .*", "", text)
    text = re.sub(r"(?is)</p>.*", "", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"[\t\r\n]", " ", text)
    text = html_lib.unescape(text).strip()
    if len(text) > DISPLAY_NAME_LIMIT:
        text = text[: DISPLAY_NAME_LIMIT - 3] + "..."
    return text


def display_name(record: Any) -> str:
    """A record's name, or for a nameless one (a requirement) its description's first sentence."""
    name = getattr(record, "name", None) if not isinstance(record, dict) else record.get("name")
    if name:
        return str(name)
    description = (
        record.get("description")
        if isinstance(record, dict)
        else getattr(record, "description", None)
    )
    body = description.get("body") if isinstance(description, dict) else description
    return description_to_title(body if isinstance(body, str) else None)
