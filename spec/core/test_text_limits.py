import json

import pytest

from services.core.registry import load_registry
from services.core.text_limits import (
    TextLimits,
    cut_text,
    cut_title,
    fit_json,
    text_length,
    truncation_note,
)

URL = "https://acme.aha.io/features/ACME-12"


def test_a_title_within_its_limit_is_left_alone():
    assert cut_title("Bulk export", 11) == "Bulk export"
    assert cut_title("Bulk export", None) == "Bulk export"


def test_a_long_title_is_cut_with_an_ellipsis_alone():
    assert cut_title("Bulk export of invoices", 10) == "Bulk expo…"
    assert cut_title("Bulk export of invoices", 6) == "Bulk…"


def test_a_long_text_ends_with_the_note_and_keeps_the_origin_line():
    origin = f"Created from Aha! {URL}"
    text = cut_text("word " * 100, 200, url=URL, keep=origin)
    assert len(text) <= 200
    assert text.startswith("word word")
    assert text.endswith(f"… (truncated: the full text is in Aha! {URL})\n\n{origin}")


def test_without_a_url_the_note_is_short():
    text = cut_text("word " * 100, 50)
    assert text.endswith("… (truncated)")
    assert len(text) <= 50
    assert truncation_note(None) == "… (truncated)"


def test_a_text_that_fits_is_joined_to_its_origin_line_untouched():
    assert cut_text("Body", 100, url=URL, keep="Origin") == "Body\n\nOrigin"
    assert cut_text("", 100, keep="Origin") == "Origin"
    assert cut_text("Body", None, keep="") == "Body"


def test_the_long_note_gives_way_to_the_short_one_when_the_room_is_small():
    text = cut_text("word " * 20, 40, url=URL)
    assert text.endswith("… (truncated)") and len(text) <= 40


def test_a_limit_too_small_for_note_and_origin_still_fits():
    text = cut_text("word " * 20, 12, url=URL, keep="Created from Aha! somewhere")
    assert len(text) <= 12 and text.endswith("…")


def test_lengths_count_utf16_units_so_emoji_take_two():
    assert text_length("abc") == 3
    assert text_length("é") == 1
    assert text_length("😀") == 2
    title = cut_title("😀" * 10, 7)
    assert title == "😀😀😀…"
    assert text_length(title) <= 7


def test_a_cut_never_ends_inside_a_tag_or_an_entity():
    assert cut_title("<b>bold</b> and <font color=red>x</font>", 25) == "<b>bold</b> and…"
    assert cut_title("Tom &amp; Jerry", 8) == "Tom…"


def test_a_less_than_sign_or_an_ampersand_that_opens_nothing_keeps_the_text_after_it():
    text = cut_text("Only when a < b. " + "word " * 20_000, 65_536, url=URL)
    assert text_length(text) > 65_000
    assert cut_title("Filter where price < 100 and then some more", 30) == (
        "Filter where price < 100 and…"
    )
    assert cut_title("R&D roadmap for the year", 16) == "R&D roadmap for…"
    assert cut_title("Slack <https://acme.aha.io/features/ACME-12|ACME-12>", 20) == "Slack…"


def test_a_cut_inside_a_markdown_link_drops_the_link_so_the_note_shows():
    text = "See [the spec](https://wiki.example.com/export/all-the-details) today"
    assert cut_text(text, 50) == "See… (truncated)"
    image = "See ![mockup](https://wiki.example.com/export/mockup.png) today"
    assert cut_text(image, 50) == "See… (truncated)"
    # A task list's box is no link: it stays.
    assert cut_text("- [x] done, and a longer item to cut", 28) == "- [x] done, and… (truncated)"


def test_a_cut_inside_a_code_block_closes_it_before_the_note():
    text = "Run this:\n\n```sh\nmake export --all\nmake export --quarter 3\n```\n\nThen check."
    origin = f"Created from Aha! {URL}"
    cut = cut_text(text, 50 + len(origin) + 2, keep=origin)
    assert cut == (f"Run this:\n\n```sh\nmake export --a\n```\n… (truncated)\n\n{origin}")
    tildes = cut_text("~~~\n" + "line\n" * 40 + "~~~", 60)
    assert tildes.endswith("\n~~~\n… (truncated)") and len(tildes) <= 60
    closed = cut_text("```\ncode\n```\n\n" + "word " * 40, 60)
    assert closed.count("```") == 2 and closed.endswith(" wor… (truncated)")


def test_fit_json_cuts_the_longest_texts_until_the_encoding_fits():
    message = {
        "username": "Aha!",
        "icon_url": "https://secure.aha.io/" + "a" * 300,
        "attachments": [{"fields": [{"title": "Description", "value": "long " * 5_000}]}],
    }
    fitted = fit_json(message, 4_000, url=URL)
    assert len(json.dumps(fitted)) <= 4_000
    value = fitted["attachments"][0]["fields"][0]["value"]
    assert value.endswith(f"… (truncated: the full text is in Aha! {URL})")
    assert fitted["icon_url"] == message["icon_url"]
    assert message["attachments"][0]["fields"][0]["value"] == "long " * 5_000


def test_fit_json_counts_escaped_characters_as_sent():
    message = {"text": "é" * 3_000}
    fitted = fit_json(message, 2_000)
    assert len(json.dumps(fitted)) <= 2_000
    assert fitted["text"].endswith("… (truncated)")


def test_fit_json_leaves_a_message_that_fits_alone():
    message = {"text": "short"}
    assert fit_json(message, 100) is message
    assert fit_json(message, None) is message


def test_fit_json_gives_up_on_a_message_of_short_strings():
    message = {"items": ["x" * 50] * 100}
    assert fit_json(message, 1_000) == message


class Limited(TextLimits):
    field_limits = {"title": 5, "body": 40}


def test_the_declared_limits_apply_by_field_name():
    limited = Limited()
    assert limited.fit_title("title", "Bulk export") == "Bulk…"
    assert limited.fit_title("other", "Bulk export") == "Bulk export"
    body = limited.fit_text("body", "word " * 20, url=URL, keep="Origin")
    assert body.endswith("… (truncated)\n\nOrigin") and len(body) <= 40


@pytest.mark.parametrize("service", list(load_registry()), ids=lambda s: s.service_name)
def test_every_declared_limit_is_a_positive_number_of_characters(service):
    limits = getattr(service, "field_limits", {})
    assert all(isinstance(name, str) and name for name in limits)
    assert all(isinstance(limit, int) and limit > 0 for limit in limits.values())
