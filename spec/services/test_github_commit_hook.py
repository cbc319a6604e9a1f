import json

import pytest

from services.core import RemoteError
from services.core.aha_api import Unauthorized
from services.core.logger import Severity
from services.github_commit_hook import GithubCommitHook
from spec.conftest import json_fixture, raw_fixture, request_json

BASE = "https://acme.aha.io/api/v1"
PUSH = "github_commit_hook/push.json"
REPO = "https://github.com/acme-eng/rocket-app"
FIRST_SHA = "3f9a1c7e52b04d6e8a1f0c2d9b7e4a6c5d8f1e20"
THIRD_SHA = "c5e8b2d4f6a1397e0b8d2f4a6c8e0b2d4f6a8c01"

FIRST_BODY = (
    "<p>Mira Castellanos (mira@acme.example) committed to "
    f'<a href="{REPO}">rocket-app</a>:</p>\n'
    "<pre>Redirect to the saved page after login, PROD-2\n\n"
    "Covers PROD-2-1 as well; see PROD-2 for the design.</pre>\n"
    f'<p>Commit: <a href="{REPO}/commit/{FIRST_SHA}">{REPO}/commit/{FIRST_SHA}</a></p>'
)
THIRD_BODY = (
    "<p>Theo Lindqvist (theo@acme.example) committed to "
    f'<a href="{REPO}">rocket-app</a>:</p>\n'
    "<pre>Store names as UTF-8 for PROD-31 &lt;script&gt;alert(1)&lt;/script&gt; "
    "&amp; friends</pre>\n"
    f'<p>Commit: <a href="{REPO}/commit/{THIRD_SHA}">{REPO}/commit/{THIRD_SHA}</a></p>'
)
# Distinct commits only, each reference once per message, in order; PROD-7 is not distinct.
EXPECTED = [
    ("features/PROD-2", "mira@acme.example", FIRST_BODY),
    ("requirements/PROD-2-1", "mira@acme.example", FIRST_BODY),
    ("features/UTF-8", "theo@acme.example", THIRD_BODY),
    ("features/PROD-31", "theo@acme.example", THIRD_BODY),
]


@pytest.fixture
def aha(mocked_http):
    """Aha! knows every record of the push except UTF-8, which only looks like a reference."""
    for path, _, _ in EXPECTED:
        if path == "features/UTF-8":
            mocked_http.post(f"{BASE}/{path}/comments", status=404, json={"error": "Not found"})
        else:
            mocked_http.post(f"{BASE}/{path}/comments", status=201, json={"comment": {"id": "1"}})
    return mocked_http


def assert_expected_comments(calls, token):
    assert len(calls) == len(EXPECTED)
    for call, (path, email, body) in zip(calls, EXPECTED, strict=True):
        assert call.request.method == "POST"
        assert call.request.url == f"{BASE}/{path}/comments"
        assert call.request.headers["Authorization"] == f"Bearer {token}"
        assert request_json(call) == {"comment": {"body": body, "user_email": email}}


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in GithubCommitHook.schema] == [("callback_url", "callback_url")]
    assert (
        GithubCommitHook.service_name,
        GithubCommitHook.title,
        GithubCommitHook.category,
        GithubCommitHook.caption,
    ) == (
        "github_commit_hook",
        "GitHub Commit Hook",
        "Development",
        "Create Aha! comments from GitHub commits",
    )
    assert GithubCommitHook.responds_to_events() == ["webhook"]


def test_a_push_as_json_text_comments_on_each_referenced_record(aha, user_data):
    hook = GithubCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("webhook")
    assert_expected_comments(aha.calls, user_data["aha_api_token"])
    assert {
        "severity": Severity.WARN,
        "message": "No record found for reference: UTF-8",
    } in hook.logger.messages
    assert {
        "severity": Severity.INFO,
        "message": "Added 3 comment(s) from 2 commit(s)",
    } in hook.logger.messages


def test_a_push_as_an_object_is_read_alike(aha, user_data):
    GithubCommitHook(user_data, {"payload": json_fixture(PUSH)}).receive("webhook")
    assert_expected_comments(aha.calls, user_data["aha_api_token"])


def test_a_push_that_is_the_event_payload_itself_is_read_alike(aha, user_data):
    GithubCommitHook(user_data, json_fixture(PUSH)).receive("webhook")
    assert_expected_comments(aha.calls, user_data["aha_api_token"])


def test_the_commit_message_cannot_inject_html(aha, user_data):
    GithubCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("webhook")
    body = request_json(aha.calls[-1])["comment"]["body"]
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_links_that_are_not_http_are_left_as_text(mocked_http, user_data):
    push = {
        "repository": {"name": "tools", "url": "javascript:alert(1)"},
        "commits": [
            {
                "id": "abc123",
                "distinct": True,
                "message": "Fix PROD-9",
                "url": "data:text/html,<b>x</b>",
                "committer": {"name": "Ann <Admin>"},
            }
        ],
    }
    mocked_http.post(f"{BASE}/features/PROD-9/comments", status=201, json={})
    GithubCommitHook(user_data, {"payload": json.dumps(push)}).receive("webhook")
    assert request_json(mocked_http.calls[0]) == {
        "comment": {
            "user_email": None,
            "body": "<p>Ann &lt;Admin&gt; committed to tools:</p>\n"
            "<pre>Fix PROD-9</pre>\n"
            "<p>Commit: data:text/html,&lt;b&gt;x&lt;/b&gt;</p>",
        }
    }


def test_a_commit_without_committer_or_repository_still_comments(mocked_http, user_data):
    push = {"commits": [{"id": "abc123", "distinct": True, "message": "PROD-9"}]}
    mocked_http.post(f"{BASE}/features/PROD-9/comments", status=201, json={})
    GithubCommitHook(user_data, {"payload": push}).receive("webhook")
    assert request_json(mocked_http.calls[0])["comment"] == {
        "user_email": None,
        "body": "<p>Someone committed:</p>\n<pre>PROD-9</pre>\n<p>Commit: abc123</p>",
    }


def test_a_push_without_distinct_commits_sends_nothing(mocked_http, user_data):
    push = json_fixture(PUSH)
    for commit in push["commits"]:
        commit["distinct"] = False
    hook = GithubCommitHook(user_data, {"payload": push}).receive("webhook")
    assert len(mocked_http.calls) == 0
    assert {
        "severity": Severity.INFO,
        "message": "Added 0 comment(s) from 0 commit(s)",
    } in hook.logger.messages


def test_a_ping_without_commits_sends_nothing(mocked_http, user_data):
    ping = {"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"name": "x"}}
    GithubCommitHook(user_data, {"payload": json.dumps(ping)}).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_another_aha_error_fails_the_event(mocked_http, user_data):
    mocked_http.post(f"{BASE}/features/PROD-2/comments", status=401, json={"error": "Bad token"})
    with pytest.raises(Unauthorized, match="401 Bad token") as raised:
        GithubCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("webhook")
    assert isinstance(raised.value, RemoteError)
    assert user_data["aha_api_token"] not in str(raised.value)
    assert len(mocked_http.calls) == 1


def test_malformed_json_text_is_a_clear_error(mocked_http, user_data):
    with pytest.raises(RemoteError, match="The push body is not valid JSON"):
        GithubCommitHook(user_data, {"payload": '{"commits": ['}).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_an_empty_payload_is_a_warning(mocked_http, user_data):
    hook = GithubCommitHook(user_data, {"payload": ""}).receive("webhook")
    assert len(mocked_http.calls) == 0
    assert {
        "severity": Severity.WARN,
        "message": "The webhook carried an empty push body",
    } in hook.logger.messages


def test_other_events_are_ignored(mocked_http, user_data):
    hook = GithubCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("create_feature")
    assert len(mocked_http.calls) == 0
    assert {
        "severity": Severity.INFO,
        "message": "GitHub Commit Hook ignoring event :create_feature",
    } in hook.logger.messages
