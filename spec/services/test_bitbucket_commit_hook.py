import json

import pytest

from services.bitbucket_commit_hook import BitbucketCommitHook, parse_author
from services.core import RemoteError
from services.core.aha_api import InternalServerError
from services.core.logger import Severity
from spec.conftest import json_fixture, raw_fixture, request_json

BASE = "https://acme.aha.io/api/v1"
PUSH = "bitbucket_commit_hook/push.json"
COMMITS = "https://bitbucket.org/acme-eng/rocket-api/commits"
SECOND = "f1e3d5c7b9a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9"
FIRST = "e4f6a8c0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2"
HOTFIX = "0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d"
PRIYA = "priya@acme.example"


def body(author, message, sha):
    return (
        f"<p>{author} committed:</p>\n<pre>{message}</pre>\n"
        f'<p>Commit: <a href="{COMMITS}/{sha}">{sha}</a></p>'
    )


SECOND_BODY = body("Priya Natarajan", "Document API-12 and API-12-2 limits; API-12 again", SECOND)
# Both changes, their commits in the order Bitbucket lists them, each reference once per message.
EXPECTED = [
    ("features/API-12", PRIYA, SECOND_BODY),
    ("requirements/API-12-2", PRIYA, SECOND_BODY),
    (
        "features/API-12",
        PRIYA,
        body("Priya Natarajan", "Rate-limit the export endpoint, API-12", FIRST),
    ),
    (
        "features/API-40",
        None,
        body("Sam Okafor", "Hotfix API-40 &lt;img src=x onerror=alert(1)&gt;", HOTFIX),
    ),
]


@pytest.fixture
def aha(mocked_http):
    for path in {path for path, _, _ in EXPECTED}:
        mocked_http.post(f"{BASE}/{path}/comments", status=201, json={"comment": {"id": "1"}})
    return mocked_http


def assert_expected_comments(calls, token):
    assert len(calls) == len(EXPECTED)
    for call, (path, email, html) in zip(calls, EXPECTED, strict=True):
        assert call.request.method == "POST"
        assert call.request.url == f"{BASE}/{path}/comments"
        assert call.request.headers["Authorization"] == f"Bearer {token}"
        assert request_json(call) == {"comment": {"body": html, "user_email": email}}


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in BitbucketCommitHook.schema] == [
        ("callback_url", "callback_url")
    ]
    assert (
        BitbucketCommitHook.service_name,
        BitbucketCommitHook.title,
        BitbucketCommitHook.category,
        BitbucketCommitHook.caption,
    ) == (
        "bitbucket_commit_hook",
        "Bitbucket Commit Hook",
        "Development",
        "Create Aha! comments from Bitbucket commits",
    )
    assert BitbucketCommitHook.responds_to_events() == ["webhook"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"payload": raw_fixture(PUSH)}, id="json text"),
        pytest.param({"payload": json_fixture(PUSH)}, id="object"),
        pytest.param(json_fixture(PUSH), id="event payload"),
    ],
)
def test_every_commit_of_every_change_comments_on_its_references(aha, user_data, payload):
    hook = BitbucketCommitHook(user_data, payload).receive("webhook")
    assert_expected_comments(aha.calls, user_data["aha_api_token"])
    assert {
        "severity": Severity.INFO,
        "message": "Added 4 comment(s) from 3 commit(s)",
    } in hook.logger.messages


def test_a_reference_aha_does_not_know_is_a_warning(mocked_http, user_data):
    mocked_http.post(f"{BASE}/features/API-12/comments", status=404, json={"error": "Not found"})
    mocked_http.post(f"{BASE}/requirements/API-12-2/comments", status=201, json={})
    mocked_http.post(f"{BASE}/features/API-40/comments", status=201, json={})
    hook = BitbucketCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("webhook")
    assert len(mocked_http.calls) == 4
    warnings = [m for m in hook.logger.messages if m["severity"] == Severity.WARN]
    assert warnings == [
        {"severity": Severity.WARN, "message": "No record found for reference: API-12"},
        {"severity": Severity.WARN, "message": "No record found for reference: API-12"},
    ]


def test_another_aha_error_fails_the_event(mocked_http, user_data):
    mocked_http.post(f"{BASE}/features/API-12/comments", status=500, json={"error": "Oops"})
    with pytest.raises(InternalServerError, match="500 Oops") as raised:
        BitbucketCommitHook(user_data, {"payload": raw_fixture(PUSH)}).receive("webhook")
    assert user_data["aha_api_token"] not in str(raised.value)
    assert len(mocked_http.calls) == 1


def test_a_commit_link_that_is_not_http_is_left_as_text(mocked_http, user_data):
    commit = {
        "hash": "abc123",
        "message": "Fix API-3",
        "author": {"raw": "<ops@acme.example>"},
        "links": {"html": {"href": "javascript:alert(1)"}},
    }
    push = {"push": {"changes": [{"commits": [commit]}]}}
    mocked_http.post(f"{BASE}/features/API-3/comments", status=201, json={})
    BitbucketCommitHook(user_data, {"payload": json.dumps(push)}).receive("webhook")
    assert request_json(mocked_http.calls[0]) == {
        "comment": {
            "user_email": "ops@acme.example",
            "body": "<p>ops@acme.example committed:</p>\n<pre>Fix API-3</pre>\n"
            "<p>Commit: abc123</p>",
        }
    }


@pytest.mark.parametrize(
    "push",
    [
        {},
        {"push": {}},
        {"push": {"changes": "none"}},
        {"push": {"changes": [{"commits": None}, {"new": {"name": "main"}}]}},
    ],
)
def test_a_push_without_commits_sends_nothing(mocked_http, user_data, push):
    BitbucketCommitHook(user_data, {"payload": push}).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_malformed_json_text_is_a_clear_error(mocked_http, user_data):
    with pytest.raises(RemoteError, match="The push body is not valid JSON"):
        BitbucketCommitHook(user_data, {"payload": "push=1"}).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_a_push_body_that_is_not_an_object_is_a_clear_error(mocked_http, user_data):
    with pytest.raises(RemoteError, match="The push body is a list, not a JSON object"):
        BitbucketCommitHook(user_data, {"payload": "[]"}).receive("webhook")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("Priya Natarajan <priya@acme.example>", ("Priya Natarajan", PRIYA)),
        ('"Natarajan, Priya" <priya@acme.example>', ("Natarajan, Priya", PRIYA)),
        ("  <priya@acme.example> ", (None, PRIYA)),
        ("priya@acme.example", (None, PRIYA)),
        ("Sam Okafor", ("Sam Okafor", None)),
        ("Sam <not an address>", ("Sam <not an address>", None)),
        ("", (None, None)),
    ],
)
def test_parse_author(raw, parsed):
    assert parse_author(raw) == parsed
