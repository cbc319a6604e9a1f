import json

import pytest

from services.core.aha_api import InternalServerError
from services.core.errors import RemoteError
from services.core.kits.commit_hooks import (
    CommitHook,
    CommitNote,
    as_list,
    at,
    comment_body,
    dig,
    link,
    push_body,
    references,
)
from services.core.logger import Severity
from services.core.mash import mash
from spec.conftest import AHA_USER_DATA, request_json

BASE = "https://acme.aha.io/api/v1"


class Hook(CommitHook):
    """A commit hook whose push is a plain list of notes."""

    service_name = "test_commit_hook"

    def commit_notes(self, push):
        for item in as_list(push.get("notes")):
            yield CommitNote(item["message"], item.get("email"), f"<p>{item['message']}</p>")


def note(message, email="dev@acme.example"):
    return {"message": message, "email": email}


def assert_comment(call, path, body, email="dev@acme.example"):
    assert call.request.method == "POST"
    assert call.request.url == f"{BASE}/{path}/comments"
    assert call.request.headers["Authorization"] == f"Bearer {AHA_USER_DATA['aha_api_token']}"
    assert request_json(call) == {"comment": {"user_email": email, "body": body}}


# --- references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "found"),
    [
        ("Fixes PROD-2", ["PROD-2"]),
        ("PROD-2-1: the first requirement", ["PROD-2-1"]),
        ("BIG2-163 and WEB-7.", ["BIG2-163", "WEB-7"]),
        ("PROD-2, PROD-2-1, PROD-2 again and PROD-2-1 too", ["PROD-2", "PROD-2-1"]),
        ("PROD-2-1-3 stops at the requirement", ["PROD-2-1"]),
        ("lowercase prod-2 and bare PROD- are not references", []),
        ("", []),
    ],
)
def test_references_are_found_once_each_in_order(message, found):
    assert references(message) == found


def test_references_of_a_missing_message_are_none():
    assert references(None) == []


# --- small helpers --------------------------------------------------------------------------


def test_dig_reads_text_and_never_raises():
    value = mash({"a": {"b": "text", "n": 3, "list": [1]}, "s": "flat"})
    assert dig(value, "a", "b") == "text"
    assert dig(value, "a", "n") == ""
    assert dig(value, "a", "list") == ""
    assert dig(value, "s", "deeper") == ""
    assert dig(value, "missing", "deeper") == ""
    assert at(value, "a", "list") == [1]
    assert at(value, "missing") is None


def test_as_list_keeps_only_objects_of_a_list():
    assert as_list([{"a": 1}, "text", 3, {"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert as_list({"a": 1}) == []
    assert as_list(None) == []


def test_link_escapes_and_only_links_http_urls():
    assert link("https://x.example/a?b=1&c=2", "A & B") == (
        '<a href="https://x.example/a?b=1&amp;c=2">A &amp; B</a>'
    )
    assert link('http://x.example/"onmouseover="x', "t") == (
        '<a href="http://x.example/&quot;onmouseover=&quot;x">t</a>'
    )
    assert (
        link("https://x.example/c", "") == '<a href="https://x.example/c">https://x.example/c</a>'
    )
    assert link("javascript:alert(1)", "click") == "click"
    assert link("", "<b>plain</b>") == "&lt;b&gt;plain&lt;/b&gt;"
    assert link("", "") == ""


def test_comment_body_escapes_the_message_and_drops_trailing_space():
    body = comment_body("<b>Ann</b> committed:", "Fix <script>x</script> & more\n\n", "abc")
    assert body == (
        "<p><b>Ann</b> committed:</p>\n"
        "<pre>Fix &lt;script&gt;x&lt;/script&gt; &amp; more</pre>\n"
        "<p>Commit: abc</p>"
    )


# --- the push body --------------------------------------------------------------------------


def test_push_body_reads_json_text():
    push = push_body({"payload": json.dumps({"commits": [{"id": "1"}]})})
    assert push.commits[0].id == "1"


def test_push_body_reads_an_object():
    push = push_body(mash({"payload": {"commits": [{"id": "1"}]}}))
    assert push.commits[0].id == "1"


def test_push_body_without_a_payload_key_is_the_event_payload():
    push = push_body(mash({"push": {"changes": []}}))
    assert push.push.changes == []


@pytest.mark.parametrize("blank", ["", "   \n"])
def test_a_blank_push_body_is_none(blank):
    assert push_body({"payload": blank}) is None


def test_malformed_json_is_a_remote_error():
    with pytest.raises(RemoteError, match="The push body is not valid JSON: Expecting"):
        push_body({"payload": "{not json"})


@pytest.mark.parametrize(
    ("payload", "kind"), [("[1, 2]", "list"), ("42", "number"), ([1], "list"), (True, "boolean")]
)
def test_a_push_body_that_is_no_object_is_a_remote_error(payload, kind):
    with pytest.raises(RemoteError, match=f"The push body is a {kind}, not a JSON object"):
        push_body({"payload": payload})


# --- commenting -----------------------------------------------------------------------------


def test_each_reference_becomes_a_comment_on_its_feature_or_requirement(mocked_http):
    mocked_http.post(f"{BASE}/features/PROD-2/comments", status=201, json={"comment": {}})
    mocked_http.post(f"{BASE}/requirements/PROD-2-1/comments", status=201, json={"comment": {}})
    mocked_http.post(f"{BASE}/features/WEB-9/comments", status=201, json={"comment": {}})
    payload = {"notes": [note("PROD-2 and PROD-2-1, PROD-2"), note("WEB-9", email=None)]}
    hook = Hook(AHA_USER_DATA, {"payload": json.dumps(payload)}).receive("webhook")
    calls = mocked_http.calls
    assert len(calls) == 3
    assert_comment(calls[0], "features/PROD-2", "<p>PROD-2 and PROD-2-1, PROD-2</p>")
    assert_comment(calls[1], "requirements/PROD-2-1", "<p>PROD-2 and PROD-2-1, PROD-2</p>")
    assert_comment(calls[2], "features/WEB-9", "<p>WEB-9</p>", email=None)
    assert {
        "severity": Severity.INFO,
        "message": "Added 3 comment(s) from 2 commit(s)",
    } in hook.logger.messages


def test_a_reference_aha_does_not_know_is_a_warning_and_the_rest_go_on(mocked_http):
    mocked_http.post(f"{BASE}/features/UTF-8/comments", status=404, json={"error": "Not found"})
    mocked_http.post(f"{BASE}/features/PROD-5/comments", status=201, json={"comment": {}})
    hook = Hook(AHA_USER_DATA, {"payload": {"notes": [note("UTF-8 names, PROD-5")]}})
    hook.receive("webhook")
    assert [c.request.url for c in mocked_http.calls] == [
        f"{BASE}/features/UTF-8/comments",
        f"{BASE}/features/PROD-5/comments",
    ]
    assert {
        "severity": Severity.WARN,
        "message": "No record found for reference: UTF-8",
    } in hook.logger.messages
    assert {
        "severity": Severity.INFO,
        "message": "Added 1 comment(s) from 1 commit(s)",
    } in hook.logger.messages


def test_another_aha_error_stops_the_hook(mocked_http):
    mocked_http.post(f"{BASE}/features/PROD-5/comments", status=500, json={"error": "Boom"})
    hook = Hook(AHA_USER_DATA, {"payload": {"notes": [note("PROD-5 then PROD-6")]}})
    with pytest.raises(InternalServerError, match="500 Boom"):
        hook.receive("webhook")
    assert len(mocked_http.calls) == 1
    assert AHA_USER_DATA["aha_api_token"] not in str(hook.logger.messages)


def test_an_empty_push_body_is_a_warning_without_requests(mocked_http):
    hook = Hook(AHA_USER_DATA, {"payload": ""}).receive("webhook")
    assert len(mocked_http.calls) == 0
    assert {
        "severity": Severity.WARN,
        "message": "The webhook carried an empty push body",
    } in hook.logger.messages


def test_commit_hooks_ask_for_a_callback_url_and_handle_webhooks():
    assert [(f.type, f.name) for f in Hook.schema] == [("callback_url", "callback_url")]
    assert Hook.responds_to_events() == ["webhook"]
    assert CommitHook.abstract and not Hook.abstract
