"""Aha!'s HTML as Textile, the markup Redmine renders by default.

Built on markdownify's tree walk (imported on first use), with Textile's own marks:
``h1.`` headings, ``*bold*``, ``_italic_``, ``"text":url`` links, ``*``/``#`` lists,
``bc.``/``<pre>`` code, ``|a|b|`` tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from services.core.lean_imports import lean_import

if TYPE_CHECKING:
    from bs4 import Tag

# Marks the lines a list item produced, so that an enclosing item tells them from its text.
_ITEM = "\x1f"


@cache
def _converter() -> Any:
    lean_import("bs4")
    # markdownify's stub lacks chomp.
    from markdownify import MarkdownConverter, chomp  # type: ignore[attr-defined]

    def inline(mark: str, closing: str | None = None) -> Callable[[Any, Tag, str, set[str]], str]:
        def convert(self: Any, el: Tag, text: str, parent_tags: set[str]) -> str:
            if "_noformat" in parent_tags:
                return text
            before, after, text = chomp(text)
            return f"{before}{mark}{text}{closing or mark}{after}" if text else ""

        return convert

    class Textile(MarkdownConverter):
        def escape(self, text: str | None, parent_tags: set[str]) -> str:
            return text or ""

        convert_b = convert_strong = inline("*")
        convert_i = convert_em = inline("_")
        convert_del = convert_s = convert_strike = inline("-")
        convert_u = convert_ins = inline("+")
        convert_code = convert_kbd = convert_samp = inline("@")
        convert_sup = inline("^")
        convert_sub = inline("~")

        def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            before, after, text = chomp(text)
            href = el.get("href")
            if not href or "_noformat" in parent_tags:
                return f"{before}{text}{after}"
            if not text or text == href:
                return f"{before}{href}{after}"
            return f'{before}"{text}":{href}{after}'

        def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            src, alt = str(el.get("src") or ""), str(el.get("alt") or "")
            if not src:
                return alt
            return f"!{src}({alt})!" if alt else f"!{src}!"

        def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
            text = " ".join(text.split())
            if "_inline" in parent_tags or not text:
                return text
            return f"\n\nh{max(1, min(6, n))}. {text}\n\n"

        def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return " " if "_inline" in parent_tags else "\n"

        def convert_hr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return "\n\n---\n\n"

        def convert_blockquote(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            text = re.sub(r"\n\s*\n", "\n", text.strip())
            return f"\n\nbq. {text}\n\n" if text else ""

        def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            text = text.strip("\n")
            if not text:
                return ""
            if "\n\n" in text:  # ``bc.`` ends at the first blank line
                return f"\n\n<pre>\n{text}\n</pre>\n\n"
            return f"\n\nbc. {text}\n\n"

        def convert_list(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            if "li" in parent_tags:
                return "\n" + text.rstrip()
            return "\n\n" + text.rstrip().replace(_ITEM, "") + "\n\n"

        convert_ul = convert_ol = convert_list

        def convert_li(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            marks = "".join(
                "#" if parent.name == "ol" else "*"
                for parent in reversed(list(el.parents))
                if parent.name in ("ul", "ol")
            )
            lines = [line for line in text.strip().split("\n") if line.strip()]
            # A Textile item is one line: paragraphs inside an item are joined.
            own = " ".join(line.strip() for line in lines if not line.startswith(_ITEM))
            nested = [line for line in lines if line.startswith(_ITEM)]
            return "\n".join([f"{_ITEM}{marks or '*'} {own}", *nested]) + "\n"

        def convert_td(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return "|" + " ".join(text.split())

        def convert_th(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return "|_. " + " ".join(text.split())

        def convert_tr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return f"{text}|\n"

        def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
            return f"\n\n{text.strip()}\n\n"

    return Textile(strip_document="strip", escape_misc=False)


def html_to_textile(html: str | None) -> str:
    """Textile from HTML; an empty description gives an empty string."""
    if not html:
        return ""
    text = _converter().convert(str(html))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
