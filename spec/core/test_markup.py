import html as html_lib

import pytest

from services.core.markup import (
    DISPLAY_NAME_LIMIT,
    description_to_title,
    display_name,
    html_to_markdown,
    html_to_plain,
    html_to_slack,
    markdown_to_html,
    reference_num_to_resource_type,
)
from services.core.mash import frozen_mash, mash

TABLE_HTML = (
    "<table><thead><tr><th>A</th><th>B</th></tr></thead>"
    "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
)
TABLE_MARKDOWN = "| A | B |\n| --- | --- |\n| 1 | 2 |"


# --- html_to_markdown -----------------------------------------------------------------------


def test_html_to_markdown_keeps_emphasis_links_and_code():
    html = (
        "<p>Some <strong>bold</strong>, <em>it</em>, <code>x_y</code> and "
        '<a href="https://x.io/a?b=1&amp;c=2">a link</a>.</p>'
    )
    assert html_to_markdown(html) == (
        "Some **bold**, *it*, `x_y` and [a link](https://x.io/a?b=1&c=2)."
    )


def test_html_to_markdown_headings_are_atx():
    assert html_to_markdown("<h1>One</h1><h2>Two</h2><h3>Three</h3>") == (
        "# One\n\n## Two\n\n### Three"
    )


def test_html_to_markdown_lists():
    html = "<ul><li>one</li><li>two</li></ul><ol><li>a</li><li>b</li></ol>"
    assert html_to_markdown(html) == "* one\n* two\n\n1. a\n2. b"


def test_html_to_markdown_tables():
    assert html_to_markdown(TABLE_HTML) == TABLE_MARKDOWN
    assert html_to_markdown(TABLE_HTML, github=True) == TABLE_MARKDOWN


def test_html_to_markdown_keeps_hard_line_breaks():
    assert html_to_markdown("<p>first<br>second</p>") == "first  \nsecond"
    assert html_to_markdown("<p>first<br/>second</p>", github=True) == "first  \nsecond"


def test_html_to_markdown_strikethrough_only_in_github_flavour():
    html = "<p><del>gone</del> <s>struck</s> <strike>old</strike> kept</p>"
    assert html_to_markdown(html) == "gone struck old kept"
    assert html_to_markdown(html, github=True) == "~~gone~~ ~~struck~~ ~~old~~ kept"


def test_html_to_markdown_does_not_escape_underscores_in_words():
    assert html_to_markdown("<p>snake_case_name</p>") == "snake_case_name"


def test_html_to_markdown_squeezes_blank_lines_and_strips():
    assert html_to_markdown("<p>a</p><p></p><p></p><p>b</p>\n\n\n") == "a\n\nb"


@pytest.mark.parametrize("empty", [None, ""])
def test_html_to_markdown_of_nothing_is_empty(empty):
    assert html_to_markdown(empty) == ""
    assert html_to_markdown(empty, github=True) == ""


# --- markdown_to_html -----------------------------------------------------------------------


def test_markdown_to_html_tables():
    assert markdown_to_html("| a | b |\n|---|---|\n| 1 | 2 |") == (
        "<table><thead><tr><th>a</th><th>b</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr></tbody></table>"
    )


def test_markdown_to_html_autolinks():
    assert markdown_to_html("see https://example.com/a?b=1 now") == (
        '<p>see <a href="https://example.com/a?b=1">https://example.com/a?b=1</a> now</p>'
    )
    assert markdown_to_html("[text](https://example.com)") == (
        '<p><a href="https://example.com">text</a></p>'
    )


def test_markdown_to_html_single_newlines_are_hard_breaks():
    assert markdown_to_html("line one\nline two") == "<p>line one<br />line two</p>"
    # Trailing spaces (Markdown's own hard break) give one break, not two.
    assert markdown_to_html("line one  \nline two") == "<p>line one<br />line two</p>"


def test_markdown_to_html_has_no_newlines_between_tags():
    html = markdown_to_html("# Head\n\n* a\n* b\n\nPara one.\n\nPara two.")
    assert html == "<h1>Head</h1><ul><li>a</li><li>b</li></ul><p>Para one.</p><p>Para two.</p>"
    assert "\n" not in html


def test_markdown_to_html_escapes_raw_html():
    html = markdown_to_html("a <b>raw</b> & ok\n\n<script>alert(1)</script>")
    assert html == (
        "<p>a &lt;b&gt;raw&lt;/b&gt; &amp; ok</p><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert "<script>" not in html


def test_markdown_to_html_code_blocks_keep_their_newlines():
    html = markdown_to_html("Before\n\n```\nx = 1\n  y = <2>\n```\n\nAfter")
    assert html == "<p>Before</p><pre><code>x = 1\n  y = &lt;2&gt;\n</code></pre><p>After</p>"


def test_markdown_to_html_strikethrough():
    assert markdown_to_html("~~gone~~") == "<p><del>gone</del></p>"


@pytest.mark.parametrize("empty", [None, ""])
def test_markdown_to_html_of_nothing_is_empty(empty):
    assert markdown_to_html(empty) == ""


# --- html_to_plain --------------------------------------------------------------------------


def test_html_to_plain_drops_markup_and_keeps_structure():
    html = (
        "<h2>Title</h2><p>Some <strong>bold</strong> <em>it</em> <code>c</code> "
        "<del>del</del> 5 &lt; 6 &amp; *stars*</p><ul><li>one</li><li>two</li></ul>"
    )
    assert html_to_plain(html) == "Title\n\nSome bold it c del 5 < 6 & *stars*\n\n* one\n* two"


def test_html_to_plain_links_as_text_and_url():
    html = (
        '<p><a href="https://y.com">Y</a> <a href="https://x.com">https://x.com</a> '
        '<a>bare</a> <a href="https://z.com"></a></p>'
    )
    assert html_to_plain(html) == "Y (https://y.com) https://x.com bare https://z.com"


def test_html_to_plain_line_breaks_images_and_preformatted_text():
    html = '<p>a<br>b <img alt="pic" src="p.png"><img src="q.png"></p><pre>x\n  y</pre>'
    assert html_to_plain(html) == "a\nb pic\n\nx\n  y"


@pytest.mark.parametrize("empty", [None, ""])
def test_html_to_plain_of_nothing_is_empty(empty):
    assert html_to_plain(empty) == ""


# --- html_to_slack --------------------------------------------------------------------------


def test_html_to_slack_keeps_links_as_url_and_text():
    html = '<p><a href="https://e.com/a?b=1&amp;c=2">E</a> and <a href="https://f.com"></a></p>'
    assert html_to_slack(html) == "<https://e.com/a?b=1&c=2|E> and <https://f.com>"


def test_html_to_slack_escapes_control_characters():
    assert html_to_slack("<p>a &amp; b &lt; c &gt; d</p>") == "a &amp; b &lt; c &gt; d"
    assert html_to_slack('<p><a href="https://e.com">x &lt;y&gt;</a></p>') == (
        "<https://e.com|x &lt;y&gt;>"
    )


def test_html_to_slack_drops_deleted_text():
    assert html_to_slack("<p>keep <del>drop this</del>this</p>") == "keep this"
    assert html_to_slack('<p>a<DEL class="x">b\nc</DEL>d</p>') == "ad"


def test_html_to_slack_emphasis():
    html = "<p><strong>bold</strong> <em>it</em> <code>c</code> <s>s</s></p><ul><li>x</li></ul>"
    assert html_to_slack(html) == "*bold* _it_ `c` ~s~\n\n* x"


@pytest.mark.parametrize("empty", [None, ""])
def test_html_to_slack_of_nothing_is_empty(empty):
    assert html_to_slack(empty) == ""


# --- reference numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "resource_type"),
    [
        ("PROD-R-1", "releases"),
        ("PROD-R-123", "releases"),
        ("PROD-P-1", "releases"),
        ("PROD-R-PL", "releases"),
        ("PROD-P-PL", "releases"),
        ("PROD-2-1", "requirements"),
        ("PROD-12-345", "requirements"),
        ("PROD-2", "features"),
        ("PROD-R", "features"),
        ("", "features"),
        (None, "features"),
    ],
)
def test_reference_num_to_resource_type(reference, resource_type):
    assert reference_num_to_resource_type(reference) == resource_type


# --- titles and display names ---------------------------------------------------------------


def test_description_to_title_takes_the_first_sentence():
    assert description_to_title("<p>First sentence here. Second one.</p>") == "First sentence here"


def test_description_to_title_takes_the_first_paragraph():
    assert description_to_title("<p>Only this</p><p>Not this</p>") == "Only this"


def test_description_to_title_strips_tags_decodes_entities_and_flattens_whitespace():
    assert description_to_title("<p><b>Tom</b> &amp; Jerry\t&lt;3\nforever</p>") == (
        "Tom & Jerry <3 forever"
    )


def test_description_to_title_is_at_most_200_characters():
    assert DISPLAY_NAME_LIMIT == 200
    exact = "x" * 200
    assert description_to_title(f"<p>{exact}</p>") == exact
    long = description_to_title("<p>" + "y" * 300 + "</p>")
    assert len(long) == 200
    assert long == "y" * 197 + "..."


@pytest.mark.parametrize("empty", [None, "", "<p></p>"])
def test_description_to_title_of_nothing_is_empty(empty):
    assert description_to_title(empty) == ""


def test_display_name_prefers_the_name():
    record = {"name": "Named", "description": {"body": "<p>Described.</p>"}}
    assert display_name(record) == "Named"
    assert display_name(mash(record)) == "Named"
    assert display_name(frozen_mash(record)) == "Named"


def test_display_name_falls_back_to_the_description_body():
    record = {"name": "", "description": {"body": "<p>First &amp; foremost. Rest.</p>"}}
    assert display_name(record) == "First & foremost"
    assert display_name(mash(record)) == "First & foremost"
    assert display_name({"description": {"body": "<p>No name</p>"}}) == "No name"


def test_display_name_accepts_a_description_string():
    assert display_name({"description": "<p>Plain string. More</p>"}) == "Plain string"
    assert display_name(mash({"description": "<p>Plain string. More</p>"})) == "Plain string"


def test_display_name_of_a_nameless_record_without_description_is_empty():
    assert display_name({}) == ""
    assert display_name(mash()) == ""
    assert display_name(mash({"description": None})) == ""


def test_display_name_does_not_add_keys_to_a_mash():
    record = mash({"reference_num": "PROD-1-1"})
    assert display_name(record) == ""
    assert record.to_dict() == {"reference_num": "PROD-1-1"}


def test_display_name_is_truncated_like_a_title():
    record = mash({"description": {"body": "<p>" + "z" * 250 + "</p>"}})
    assert display_name(record) == "z" * 197 + "..."


# --- code spans and blocks show their content literally ---------------------------------------

CODE_CHARACTERS = ["method_name*", "snake_case_name", "list[0]", "a <b> & c", "**not bold**"]


@pytest.mark.parametrize("code", CODE_CHARACTERS)
@pytest.mark.parametrize("github", [True, False])
def test_html_to_markdown_escapes_nothing_in_a_code_element(code, github):
    html = f"<p>Call <code>{html_lib.escape(code)}</code> here</p>"
    assert html_to_markdown(html, github=github) == f"Call `{code}` here"


@pytest.mark.parametrize("code", CODE_CHARACTERS)
def test_html_to_markdown_escapes_nothing_in_a_typed_code_span(code):
    html = f"<p>Call `{html_lib.escape(code)}` here</p>"
    assert html_to_markdown(html, github=True) == f"Call `{code}` here"


def test_the_example_method_name_star():
    assert html_to_markdown("<p>Call `method_name*` here</p>", github=True) == (
        "Call `method_name*` here"
    )
    assert html_to_markdown("<p>Call <code>method_name*</code> here</p>", github=True) == (
        "Call `method_name*` here"
    )


def test_text_around_a_code_span_is_still_escaped():
    html = "<p>2*3 is `2*3`, and ``a`*b`` too, but not \\`x*`</p>"
    assert html_to_markdown(html, github=True) == (
        "2\\*3 is `2*3`, and ``a`*b`` too, but not \\`x\\*`"
    )


def test_a_typed_fence_inside_a_paragraph_escapes_nothing_either():
    html = "<p>```\nrun_it(*args)\n```</p>"
    assert html_to_markdown(html, github=True) == "```\nrun_it(*args)\n```"


def test_preformatted_blocks_escape_nothing_in_any_converter():
    html = "<pre><code>a*b_c [x] &lt;y&gt;\n  z</code></pre>"
    assert html_to_markdown(html, github=True) == "```\na*b_c [x] <y>\n  z\n```"
    assert html_to_plain(html) == "a*b_c [x] <y>\n  z"
    assert html_to_slack(html) == "```\na*b_c [x] &lt;y&gt;\n  z\n```"
    assert html_to_slack("<pre>a*b &lt;y&gt;</pre>") == "```\na*b &lt;y&gt;\n```"


@pytest.mark.parametrize("code", CODE_CHARACTERS)
def test_plain_text_keeps_code_as_it_is(code):
    assert html_to_plain(f"<p>Call <code>{html_lib.escape(code)}</code> here</p>") == (
        f"Call {code} here"
    )
    assert html_to_plain(f"<p>Call `{html_lib.escape(code)}` here</p>") == f"Call `{code}` here"


def test_slack_code_keeps_markup_and_encodes_only_its_control_characters():
    assert html_to_slack("<p>Call <code>a_b* [x] &lt;y&gt; &amp;</code></p>") == (
        "Call `a_b* [x] &lt;y&gt; &amp;`"
    )
    assert html_to_slack("<p>Call `a_b* [x]` here</p>") == "Call `a_b* [x]` here"


@pytest.mark.parametrize("code", CODE_CHARACTERS)
def test_markdown_to_html_keeps_code_span_content(code):
    assert markdown_to_html(f"Call `{code}` here") == (
        f"<p>Call <code>{html_lib.escape(code, quote=False)}</code> here</p>"
    )
