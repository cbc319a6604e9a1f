"""The walk over Aha!'s HTML that writes Jira wiki markup; ``services.jira.wiki`` is
the public face and imports this module (and BeautifulSoup) on first use.

Blocks are separated by blank lines and tidied at the end; a list item writes one
line per item and marks it, so that the item around it tells nested items from
its own text. ``{noformat}`` blocks are kept aside until the end, untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from services.jira import wiki_text as rules
from services.jira.wiki_table import Cell, table_lines

PARAGRAPH = "\n\n"
# How deep elements may nest before the deeper ones are read as their text alone.
MAX_DEPTH = 100

MARKS = {
    **dict.fromkeys(("strong", "b"), "*"),
    **dict.fromkeys(("em", "i"), "_"),
    **dict.fromkeys(("del", "s", "strike"), "-"),
    **dict.fromkeys(("u", "ins"), "+"),
    "cite": "??",
    "sup": "^",
    "sub": "~",
}
# Jira's icons, by the file names of the images Jira itself renders them with.
EMOTICONS = {
    "smile": ":)",
    "sad": ":(",
    "tongue": ":P",
    "biggrin": ":D",
    "wink": ";)",
    "thumbs_up": "(y)",
    "thumbs_down": "(n)",
    "information": "(i)",
    "check": "(/)",
    "error": "(x)",
    "warning": "(!)",
    "add": "(+)",
    "forbidden": "(-)",
    "help_16": "(?)",
    "lightbulb_on": "(on)",
    "lightbulb": "(off)",
    "star_yellow": "(*)",
    "star_red": "(*r)",
    "star_green": "(*g)",
    "star_blue": "(*b)",
}
_EMOTICON = re.compile(r"/emoticons/([\w-]+)\.(?:png|gif)$")
_IMAGE_ATTRIBUTES = ("width", "height", "align", "valign", "alt")
_CODE = {"code", "kbd", "samp", "tt"}
# Elements that start and end a line of their own.
_LINES = {
    *("div", "section", "article", "header", "footer", "main", "aside", "nav", "center"),
    *("figure", "figcaption", "address", "dl", "dt", "dd", "details", "summary"),
    *("form", "fieldset"),
}
_DROPPED = {"script", "style", "template", "head", "noscript"}
_STYLE_COLOUR = re.compile(r"(?:^|[;\s])color\s*:\s*([^;]+)", re.I)
_URL_UNSAFE = re.compile(r"[\s|\[\]!]")
_BREAKS = re.compile(f"[ \t{rules.LINE}]*[\n{rules.LINE}][ \t\n{rules.LINE}]*")


@dataclass(frozen=True)
class Context:
    """What the elements around a node decide for it."""

    marks: frozenset[str] = frozenset()
    quoted: bool = False  # Jira's {quote} does not nest
    coloured: bool = False  # nor does {color}
    table: bool = False
    item: bool = False  # inside a list item: no headings there
    one_line: bool = False  # a heading or a link: line breaks become spaces


class Walk:
    """One conversion: the tree walk and the blocks it keeps aside."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.depth = 0

    def run(self, html: str) -> str:
        soup = BeautifulSoup(html, "html.parser")
        text = tidy(self.children(soup, Context()))
        text = rules.settle(text).replace(rules.INDENT, "  ").replace(rules.ITEM, "")
        return rules.VERBATIM.sub(lambda m: self.kept[int(m.group(1))], text).strip()

    def children(self, node: Tag, ctx: Context) -> str:
        if self.depth >= MAX_DEPTH:  # the walk recurses; a pasted page can nest past its limit
            return rules.escape(plain(node.get_text()))
        self.depth += 1
        try:
            return "".join(self.node(child, ctx) for child in node.children)
        finally:
            self.depth -= 1

    def node(self, node: Any, ctx: Context) -> str:
        if isinstance(node, PreformattedString):  # comments, doctypes, CDATA
            return ""
        if isinstance(node, NavigableString):
            return rules.escape(plain(str(node)))
        name = node.name
        if name in MARKS:
            return self.mark(node, ctx, MARKS[name])
        handler = getattr(self, "tag_" + name, None) if name.isidentifier() else None
        if handler is not None:
            return handler(node, ctx)
        if re.fullmatch(r"h[1-6]", name):
            return self.heading(node, ctx, int(name[1]))
        if name in _CODE:
            return rules.wrap_lines(rules.escape(plain(node.get_text())), "{{", "}}")
        if name in _LINES:
            return rules.LINE + self.children(node, ctx) + rules.LINE
        if name in _DROPPED:
            return ""
        return self.children(node, ctx)

    def keep(self, block: str) -> str:
        self.kept.append(block)
        return f"\x05{len(self.kept) - 1}\x06"

    def mark(self, node: Tag, ctx: Context, mark: str) -> str:
        if mark in ctx.marks:
            return self.children(node, ctx)
        content = self.children(node, replace(ctx, marks=ctx.marks | {mark}))
        return rules.wrap_lines(content, mark, mark)

    def heading(self, node: Tag, ctx: Context, level: int) -> str:
        content = one_line(self.children(node, replace(ctx, one_line=True)))
        if not content:
            return ""
        if ctx.table or ctx.item:
            bold = rules.wrap_lines(content, "*", "*") if "*" not in ctx.marks else content
            return "\n" + bold + "\n"
        return f"{PARAGRAPH}h{level}. {anchor(node)}{content}{PARAGRAPH}"

    def tag_p(self, node: Tag, ctx: Context) -> str:
        return PARAGRAPH + anchor(node) + self.children(node, ctx) + PARAGRAPH

    def tag_br(self, node: Tag, ctx: Context) -> str:
        return " " if ctx.one_line else "\n"

    def tag_hr(self, node: Tag, ctx: Context) -> str:
        return PARAGRAPH + "----" + PARAGRAPH

    def tag_pre(self, node: Tag, ctx: Context) -> str:
        text = "".join(
            "\n" if getattr(part, "name", None) == "br" else str(part)
            for part in node.descendants
            if getattr(part, "name", None) == "br"
            or (isinstance(part, NavigableString) and not isinstance(part, PreformattedString))
        )
        text = rules.CONTROL.sub("", text.replace("\r\n", "\n").replace("\xa0", " "))
        text = re.sub(r"\A\s*\n", "", text).rstrip()
        if not text:
            return ""
        # Nothing escapes inside a block: one that shows "{noformat}" must be a {code} one.
        tag = "code" if "{noformat}" in text and "{code}" not in text else "noformat"
        return PARAGRAPH + self.keep(f"{{{tag}}}\n{text}\n{{{tag}}}") + PARAGRAPH

    def tag_blockquote(self, node: Tag, ctx: Context) -> str:
        content = tidy(self.children(node, replace(ctx, quoted=True)))
        if ctx.quoted or not content:
            return PARAGRAPH + content + PARAGRAPH
        return f"{PARAGRAPH}{{quote}}\n{content}\n{{quote}}{PARAGRAPH}"

    def tag_ul(self, node: Tag, ctx: Context) -> str:
        lines = tidy(self.children(node, ctx)).split("\n")
        content = "\n".join(line for line in lines if line.strip())  # items, one line each
        return "\n" + content + "\n" if ctx.item else PARAGRAPH + content + PARAGRAPH

    tag_ol = tag_ul

    def tag_li(self, node: Tag, ctx: Context) -> str:
        content = tidy(self.children(node, replace(ctx, item=True)))
        lines = [line for line in content.split("\n") if line.strip()]
        if not lines:
            return ""
        parent = node.find_parent(["ul", "ol"])
        if parent is not None and is_checklist(parent):
            unchecked = any("unchecked" in name for name in node.get("class") or ())
            first = ("(x) " if unchecked else "(/) ") + lines[0]  # continues an outer item
        elif lines[0].startswith(rules.ITEM):
            first = lines[0]  # an item that starts with a nested list
        else:
            first = rules.ITEM + list_marks(node) + " " + lines[0]
        rest = [line if line.startswith(rules.ITEM) else rules.INDENT + line for line in lines[1:]]
        return "\n" + "\n".join([first, *rest]) + "\n"

    def tag_a(self, node: Tag, ctx: Context) -> str:
        href = text_of(node, "href").strip()
        content = self.children(node, replace(ctx, one_line=True))
        if not href:
            name = safe_name(node.get("name"))
            return (f"{{anchor:{name}}}" if name else "") + content
        content = one_line(content)
        target = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", href)
        if not content or " ".join(node.get_text().split()) in (href, href.lstrip("#")):
            return f"[{target}]"
        return f"[{content}|{target}]"

    def tag_img(self, node: Tag, ctx: Context) -> str:
        src = text_of(node, "src").strip()
        if src.startswith("data:"):  # Jira shows none, and it would fill the field
            return rules.escape(plain(text_of(node, "alt")))
        if not src:
            return ""
        emoticon = _EMOTICON.search(src)
        if emoticon and emoticon.group(1) in EMOTICONS:
            return EMOTICONS[emoticon.group(1)]
        values = ((key, plain(text_of(node, key)).strip()) for key in _IMAGE_ATTRIBUTES)
        attributes = ", ".join(
            f"{key}={re.sub(r'[,|!]', '', value)}" for key, value in values if value
        )
        target = _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", src)
        return f"!{target}|{attributes}!" if attributes else f"!{target}!"

    def tag_span(self, node: Tag, ctx: Context) -> str:
        if "checklist-item__indicator" in (node.get("class") or ()):
            return ""
        colour = _STYLE_COLOUR.search(text_of(node, "style"))
        return self.coloured(node, ctx, colour.group(1) if colour else None)

    def tag_font(self, node: Tag, ctx: Context) -> str:
        return self.coloured(node, ctx, text_of(node, "color") or None)

    def coloured(self, node: Tag, ctx: Context, value: str | None) -> str:
        colour = None if ctx.coloured else rules.jira_colour(value)
        if colour is None:
            return self.children(node, ctx)
        content = self.children(node, replace(ctx, coloured=True))
        return rules.wrap_paragraphs(content, f"{{color:{colour}}}", "{color}")

    def tag_table(self, node: Tag, ctx: Context) -> str:
        inner = replace(ctx, table=True)
        rows = [
            [self.cell(cell, inner) for cell in row.find_all(["td", "th"], recursive=False)]
            for row in table_rows(node)
        ]
        caption = node.find("caption", recursive=False)
        title = PARAGRAPH + self.children(caption, ctx) + PARAGRAPH if caption else ""
        if ctx.table:  # Jira has no table in a table: its cells as lines of text
            return "\n" + "\n".join(" ".join(cell.text for cell in row) for row in rows) + "\n"
        return title + PARAGRAPH + "\n".join(table_lines(rows)) + PARAGRAPH

    def cell(self, node: Tag, ctx: Context) -> Cell:
        content = re.sub(r"\n{2,}", "\n", tidy(self.children(node, ctx)))
        # An empty cell would read as part of a header's "||"; HTML's own caps on spans.
        colspan, rowspan = span(node, "colspan", 1000), span(node, "rowspan", 65534)
        return Cell(node.name == "th", content or " ", colspan, rowspan)


def text_of(node: Tag, name: str) -> str:
    """An attribute's value as text; a multi-valued one (``class``) joined by spaces."""
    value = node.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


def plain(text: str) -> str:
    """Text as HTML shows it: control characters gone, runs of whitespace one space."""
    return rules.HTML_SPACE.sub(" ", rules.CONTROL.sub("", text).replace("\xa0", " "))


def one_line(text: str) -> str:
    return " ".join(text.replace(rules.LINE, " ").split())


def _breaks(match: re.Match[str]) -> str:
    return PARAGRAPH if match.group().count("\n") > 1 else "\n"


def tidy(text: str) -> str:
    """One space at most between words (HTML's rule across elements too), none around
    line breaks, at most one blank line, no blank at the ends."""
    text = _BREAKS.sub(_breaks, re.sub(" {2,}", " ", text))
    return text.strip(" \n" + rules.LINE)


def safe_name(name: Any) -> str:
    """An anchor name that cannot end its ``{anchor:...}`` macro early."""
    return re.sub(r"[{}\[\]|\s]", "", str(name or ""))


def anchor(node: Tag) -> str:
    name = safe_name(node.get("data-anchor"))
    return f"{{anchor:{name}}}" if name else ""


def is_checklist(node: Tag) -> bool:
    return node.name == "ul" and "checklist" in (node.get("class") or ())


def list_marks(node: Tag) -> str:
    """``*`` for each bulleted and ``#`` for each numbered list around an item, outermost
    first; checklists count for none."""
    marks = "".join(
        "#" if parent.name == "ol" else "*"
        for parent in node.parents
        if parent.name in ("ul", "ol") and not is_checklist(parent)
    )
    return marks[::-1] or "*"


def table_rows(table: Tag) -> list[Tag]:
    rows = []
    for child in table.find_all(True, recursive=False):
        if child.name == "tr":
            rows.append(child)
        elif child.name in ("thead", "tbody", "tfoot"):
            rows.extend(child.find_all("tr", recursive=False))
    return rows


def span(cell: Tag, attribute: str, most: int) -> int:
    digits = re.match(r"\s*(\d+)", str(cell.get(attribute) or ""))
    return min(max(int(digits.group(1)), 1), most) if digits else 1


def convert(html: str) -> str:
    """Jira wiki markup for a piece of Aha!'s HTML."""
    return Walk().run(html)
