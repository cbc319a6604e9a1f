"""Rate limits are waited out on every client, within the event's time, and said."""

import base64

import pytest

from services.core import rate_limits
from services.core.errors import RemoteError
from services.core.http import HttpClient
from services.core.logger import EventLogger, Severity
from services.github_issues import GithubIssues
from services.halo_itsm import HaloItsm
from services.webhooks import Webhooks
from spec.conftest import json_fixture, request_json

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z
URL = "https://api.github.com/repos/acme-finance/ledger/milestones/7"
GITHUB_TOKEN = "ghp_Rate1imitedToken0042"
BASIC = "Basic " + base64.b64encode(f"maya-okafor:{GITHUB_TOKEN}".encode()).decode()
BODY = {"title": "Winter launch"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(rate_limits, "now", lambda: NOW)


def client(time_left=lambda: 300.0):
    return HttpClient(EventLogger(), remote_name="GitHub", time_left=time_left)


def patch(http):
    return http.patch(URL, json=BODY, headers={"Authorization": BASIC})


def assert_patches(mocked_http, count):
    assert len(mocked_http.calls) == count
    for call in mocked_http.calls:
        assert (call.request.method, call.request.url) == ("PATCH", URL)
        assert call.request.headers["Authorization"] == BASIC
        assert request_json(call) == BODY


def test_github_answering_429_then_200_is_waited_out_and_said(user_data, mocked_http, slept):
    payload = json_fixture("update_release_event.json")
    payload["release"]["integration_fields"] = [
        {"name": "number", "value": "7", "integration_id": 4242}
    ]
    mocked_http.patch(URL, status=429, headers={"Retry-After": "1"}, json={"message": "slow"})
    mocked_http.patch(URL, json=json_fixture("github_issues/milestone.json"))
    settings = {
        **user_data,
        "username": "maya-okafor",
        "password": GITHUB_TOKEN,
        "repository": "acme-finance/ledger",
    }
    service = GithubIssues(settings, payload)
    service.receive("update_release")
    assert len(mocked_http.calls) == 2
    first, second = mocked_http.calls
    for call in mocked_http.calls:
        assert (call.request.method, call.request.url) == ("PATCH", URL)
        assert call.request.headers["Authorization"] == BASIC
    assert request_json(first) == request_json(second)
    assert request_json(first)["title"] == "Winter launch"
    assert slept == [1]
    assert {
        "severity": Severity.INFO,
        "message": "rate limited by GitHub, retrying in 1 s",
    } in service.logger.messages


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        # GitHub's secondary limit.
        (403, {"Retry-After": "60"}, 60),
        # GitHub's primary limit: nothing left until the reset, in epoch seconds.
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW + 42)}, 42),
        # A reset as an ISO 8601 time.
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2023-11-14T22:14:00Z"}, 40),
        (429, {"X-RateLimit-Reset": "2023-11-14T22:13:25"}, 5),
        # GitLab's RateLimit-Reset, and a reset given as seconds from now.
        (429, {"RateLimit-Reset": str(NOW + 7)}, 7),
        (429, {"X-RateLimit-Reset": "12"}, 12),
        # Retry-After as an HTTP date.
        (503, {"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"}, 30),
        (429, {"Retry-After": "Tue, 14 Nov 2023 22:13:50 GMT"}, 30),
        (503, {"Retry-After": "3"}, 3),
        # No header, or one that cannot be read: a short backoff.
        (429, {}, 1),
        (429, {"Retry-After": "soon"}, 1),
        (429, {"Retry-After": "-3"}, 1),
        (429, {"Retry-After": "inf"}, 1),
        (429, {"X-RateLimit-Reset": "nan"}, 1),
        (429, {"X-RateLimit-Reset": "1e400"}, 1),
        # Seconds with a fraction, as some servers send them.
        (429, {"Retry-After": "1.5"}, 1.5),
        # A reset already past: straight away.
        (429, {"X-RateLimit-Reset": str(NOW - 5)}, 0),
    ],
)
def test_rate_limits_wait_as_long_as_the_server_says(mocked_http, slept, status, headers, wait):
    mocked_http.patch(URL, status=status, headers=headers, json={"message": "limited"})
    mocked_http.patch(URL, json={"number": 7})
    http = client()
    assert patch(http).json() == {"number": 7}
    assert_patches(mocked_http, 2)
    assert slept == [wait]
    assert {
        "severity": Severity.INFO,
        "message": f"rate limited by GitHub, retrying in {wait} s",
    } in http.logger.messages


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Remaining": "12"},
        # Atlassian's CAPTCHA: the login is refused, however the limits read.
        {"X-Seraph-LoginReason": "AUTHENTICATION_DENIED", "X-RateLimit-Remaining": "0"},
        {
            "X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=https://x/login",
            "Retry-After": "5",
        },
    ],
)
def test_a_403_that_is_not_a_rate_limit_is_answered_at_once(mocked_http, slept, headers):
    mocked_http.patch(URL, status=403, headers=headers, json={"message": "Forbidden"})
    assert patch(client()).status_code == 403
    assert_patches(mocked_http, 1)
    assert slept == []


def test_a_403_whose_login_reason_is_ok_may_be_a_rate_limit(mocked_http, slept):
    headers = {"X-Seraph-LoginReason": "OK", "X-RateLimit-Remaining": "0"}
    mocked_http.patch(URL, status=403, headers=headers)
    mocked_http.patch(URL, json={})
    assert patch(client()).status_code == 200
    assert_patches(mocked_http, 2)
    assert slept == [1]


def test_a_503_without_retry_after_is_answered_at_once(mocked_http, slept):
    mocked_http.patch(URL, status=503, body="maintenance")
    assert patch(client()).status_code == 503
    assert_patches(mocked_http, 1)
    assert slept == []


def test_a_wait_past_the_events_time_is_an_error_saying_when_the_limit_resets(mocked_http, slept):
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW + 3600)}
    mocked_http.patch(URL, status=403, headers=headers, json={"message": "API rate limit"})
    with pytest.raises(RemoteError) as raised:
        patch(client(time_left=lambda: 100.0))
    assert str(raised.value) == (
        f"Rate limited by GitHub (HTTP 403) on PATCH {URL}: the limit resets at "
        "2023-11-14T23:13:20Z, in 3600 s, beyond the time this event has left; "
        "try again after the reset"
    )
    assert_patches(mocked_http, 1)
    assert slept == []


def test_without_an_event_a_wait_is_bounded_by_the_longest_wait(mocked_http, slept):
    mocked_http.patch(URL, status=429, headers={"Retry-After": "301"})
    with pytest.raises(RemoteError, match=r"\(HTTP 429\).*in 301 s, beyond the 300 s this"):
        patch(client(time_left=lambda: None))
    assert_patches(mocked_http, 1)
    mocked_http.calls.reset()
    mocked_http.replace("PATCH", URL, status=429, headers={"Retry-After": "299"})
    mocked_http.patch(URL, json={})
    assert patch(client(time_left=lambda: None)).status_code == 200
    assert slept == [299]


@pytest.mark.parametrize(
    ("headers", "resets"),
    [
        ({"X-RateLimit-Reset": "99999999999999999"}, "a time no calendar reaches"),
        ({"Retry-After": "9" * 30}, "a time no calendar reaches"),
        ({"X-RateLimit-Reset": "9999-12-31T23:59:59Z"}, "9999-12-31T23:59:59Z"),
    ],
)
def test_a_reset_beyond_any_date_is_an_error_that_says_so(mocked_http, slept, headers, resets):
    mocked_http.patch(URL, status=429, headers=headers)
    with pytest.raises(RemoteError) as raised:
        patch(client())
    assert str(raised.value).startswith(
        f"Rate limited by GitHub (HTTP 429) on PATCH {URL}: the limit resets at {resets}, in "
    )
    assert_patches(mocked_http, 1)
    assert slept == []


def test_attempts_are_bounded_and_the_last_answer_is_returned(mocked_http, slept):
    mocked_http.patch(URL, status=429, json={"message": "slow"})
    http = client()
    assert patch(http).status_code == 429
    assert_patches(mocked_http, rate_limits.ATTEMPTS)
    assert slept == [1, 2, 4, 8]
    assert http.logger.messages[-1] == {
        "severity": Severity.WARN,
        "message": f"Still rate limited by GitHub after 5 attempts of PATCH {URL}",
    }


def test_a_bare_client_names_the_host(mocked_http, slept):
    url = "https://hooks.example.com/aha"
    mocked_http.post(url, status=429, headers={"Retry-After": "2"})
    mocked_http.post(url)
    http = HttpClient(EventLogger())
    http.post(url, json={"a": 1})
    assert [request_json(c) for c in mocked_http.calls] == [{"a": 1}, {"a": 1}]
    assert "rate limited by hooks.example.com, retrying in 2 s" in str(http.logger.messages)


def test_a_rate_limited_download_closes_the_refused_answer(mocked_http, slept):
    url = "https://cdn.aha.io/attachments/1/mockup.png"
    mocked_http.get(url, status=429, headers={"Retry-After": "1"})
    mocked_http.get(url, body=b"\x89PNG", content_type="image/png")
    assert HttpClient(EventLogger()).download(url) == b"\x89PNG"
    first, second = mocked_http.calls
    assert first.response.raw.closed
    assert (first.request.method, second.request.method) == ("GET", "GET")
    assert slept == [1]


def test_each_client_names_its_third_party(user_data):
    assert GithubIssues(user_data).http.remote_name == "GitHub"
    assert HaloItsm(user_data).http.remote_name == "HaloITSM"
    assert Webhooks(user_data).http.remote_name == "Integration webhook"
    assert GithubIssues(user_data).api.http.remote_name == "Aha!"
