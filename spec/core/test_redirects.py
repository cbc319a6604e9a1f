"""Redirects: a write stays a write, the guard and the credential rules hold on every hop."""

from urllib.parse import parse_qs

import pytest

from services.core.errors import InvalidUrlError, RemoteError
from services.core.http import HttpClient
from services.core.logger import EventLogger, Severity
from services.core.redaction import Redactor
from services.halo_itsm.auth import HaloAuth, HaloCredentials, forget_tokens
from services.webhooks import Webhooks
from spec.conftest import json_fixture, request_json

HOOK = "https://hooks.example.com/hooks/aha"
MOVED = "https://hooks.example.com/hooks/aha/"
HALO_SECRET = "halo-client-s3cret-7731"


def client(**kwargs):
    return HttpClient(EventLogger(redactor=Redactor(["s3cr3t-value"])), **kwargs)


def moved_to(mocked_http, method, url, location, status=301):
    mocked_http.add(method, url, status=status, headers={"Location": location})


def test_a_webhook_answered_301_gets_the_post_again_with_its_body_and_no_get(mocked_http):
    payload = json_fixture("create_feature_event.json")
    moved_to(mocked_http, "POST", HOOK, "/hooks/aha/")
    mocked_http.post(MOVED, status=200)
    service = Webhooks({"hook_url": HOOK}, payload)
    service.receive("create_feature")
    assert len(mocked_http.calls) == 2
    for call, url in zip(mocked_http.calls, (HOOK, MOVED), strict=True):
        assert call.request.method == "POST"
        assert call.request.url == url
        assert call.request.headers["Content-Type"] == "application/json"
        assert "Authorization" not in call.request.headers
        assert request_json(call) == payload
    assert {
        "severity": Severity.INFO,
        "message": f"POST {HOOK} moved (301) to {MOVED}",
    } in service.logger.messages


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_write_is_sent_again_with_its_method_and_body(mocked_http, method, status):
    old = "https://api.example.com/v1/items/7"
    new = "https://api.example.com/v2/items/7"
    moved_to(mocked_http, method, old, new, status)
    mocked_http.add(method, new, json={"ok": True})
    response = client().request(
        method, old, json={"name": "Seven"}, headers={"Authorization": "Bearer abcdef123456"}
    )
    assert response.json() == {"ok": True}
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        (method, old),
        (method, new),
    ]
    for call in mocked_http.calls:
        assert request_json(call) == {"name": "Seven"}
        # The same origin: the credentials follow.
        assert call.request.headers["Authorization"] == "Bearer abcdef123456"
    assert [r.status_code for r in response.history] == [status]


def test_a_303_to_a_write_is_an_error_naming_status_and_location(mocked_http):
    moved_to(mocked_http, "POST", HOOK, "https://hooks.example.com/done?token=abcdef123", 303)
    with pytest.raises(RemoteError) as raised:
        client().post(HOOK, json={"a": 1})
    text = str(raised.value)
    assert text.startswith(
        f"POST {HOOK} moved (303) to https://hooks.example.com/done?token=[FILTERED], "
        "which was not followed: "
    )
    assert "GET" in text and "abcdef123" not in text
    assert len(mocked_http.calls) == 1
    assert mocked_http.calls[0].request.method == "POST"
    assert request_json(mocked_http.calls[0]) == {"a": 1}


def test_a_303_to_a_read_becomes_a_get(mocked_http):
    moved_to(mocked_http, "GET", "https://api.example.com/search", "/results/4", 303)
    mocked_http.get("https://api.example.com/results/4", json=[4])
    assert client().get("https://api.example.com/search", params={"q": "x"}).json() == [4]
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        ("GET", "https://api.example.com/search?q=x"),
        ("GET", "https://api.example.com/results/4"),
    ]


def test_five_hops_are_followed_and_a_sixth_is_an_error(mocked_http):
    for hop in range(6):
        moved_to(mocked_http, "POST", f"https://api.example.com/{hop}", f"/{hop + 1}", 307)
    mocked_http.post("https://api.example.com/6", json={"ok": True})
    message = (
        r"POST https://api.example.com/5 moved \(307\) to https://api.example.com/6, "
        "which was not followed: more than 5 redirects"
    )
    with pytest.raises(RemoteError, match=message):
        client().post("https://api.example.com/0", json={"a": 1})
    assert len(mocked_http.calls) == 6
    assert all(request_json(call) == {"a": 1} for call in mocked_http.calls)

    mocked_http.calls.reset()
    assert client().post("https://api.example.com/1", json={"a": 1}).json() == {"ok": True}
    assert [c.request.url for c in mocked_http.calls][-1] == "https://api.example.com/6"
    assert len(mocked_http.calls) == 6


def test_a_write_redirected_to_a_private_address_is_refused_naming_it(mocked_http):
    moved_to(mocked_http, "POST", HOOK, "http://10.0.0.5/admin", 307)
    mocked_http.post("http://10.0.0.5/admin", body="internal")
    with pytest.raises(InvalidUrlError) as raised:
        client().post(HOOK, json={"a": 1})
    assert str(raised.value).startswith(
        f"POST {HOOK} moved (307) to http://10.0.0.5/admin, which is refused: "
    )
    assert "10.0.0.5 is not a public address" in str(raised.value)
    assert [c.request.url for c in mocked_http.calls] == [HOOK]


def test_credentials_do_not_follow_a_write_to_another_origin(mocked_http):
    old = "https://gitlab.example.com/api/v4/projects/1/issues"
    new = "https://elsewhere.example.com/collect"
    moved_to(mocked_http, "POST", old, new, 308)
    mocked_http.post(new, json={})
    http = client(headers={"X-Api-Key": "session-key-123456"})
    http.post(
        old,
        json={"title": "t"},
        headers={"PRIVATE-TOKEN": "glpat-123456", "Accept": "application/json"},
        auth=("user", "pass-123456"),
    )
    first, second = (c.request for c in mocked_http.calls)
    assert (first.method, first.url) == ("POST", old)
    assert first.headers["PRIVATE-TOKEN"] == "glpat-123456"
    assert first.headers["X-Api-Key"] == "session-key-123456"
    assert first.headers["Authorization"].startswith("Basic ")
    assert (second.method, second.url) == ("POST", new)
    assert request_json(mocked_http.calls[1]) == {"title": "t"}
    for name in ("PRIVATE-TOKEN", "X-Api-Key", "Authorization"):
        assert name not in second.headers
    assert second.headers["Accept"] == "application/json"


def test_a_body_carrying_credentials_never_follows_to_another_origin(mocked_http):
    token_url = "https://auth.example.com/oauth/token"
    moved_to(mocked_http, "POST", token_url, "https://collector.example.net/token", 307)
    with pytest.raises(RemoteError, match="carries credentials") as raised:
        client().post(token_url, data={"client_secret": "s3cr3t-value"}, sends_credentials=True)
    assert "s3cr3t-value" not in str(raised.value)
    assert [c.request.url for c in mocked_http.calls] == [token_url]


def test_a_secret_in_the_new_address_never_follows_to_another_origin(mocked_http):
    old = "https://api.example.com/push?token=s3cr3t-value"
    new = "https://collector.example.net/push?token=s3cr3t-value"
    moved_to(mocked_http, "POST", old, new, 307)
    mocked_http.post(new, json={})
    with pytest.raises(RemoteError, match="carries credentials") as raised:
        client().post(
            "https://api.example.com/push", params={"token": "s3cr3t-value"}, sends_credentials=True
        )
    assert "s3cr3t-value" not in str(raised.value)
    assert [c.request.url for c in mocked_http.calls] == [old]


def test_the_halo_token_request_is_never_redirected_to_plain_http(mocked_http):
    forget_tokens()
    base = "https://acme.haloitsm.com"
    credentials = HaloCredentials(base_uri=base, client_id="aha-app", client_secret=HALO_SECRET)
    moved_to(mocked_http, "POST", f"{base}/auth/token", "http://acme.haloitsm.com/auth/token", 307)
    mocked_http.post("http://acme.haloitsm.com/auth/token", json={"access_token": "leaked"})
    http = client()
    with pytest.raises(InvalidUrlError) as raised:
        HaloAuth(credentials, http).fetch()
    assert str(raised.value) == (
        "Refusing to send credentials to acme.haloitsm.com over plain http; use an https:// "
        f"URL: POST {base}/auth/token moved (307) to http://acme.haloitsm.com/auth/token"
    )
    assert len(mocked_http.calls) == 1
    request = mocked_http.calls[0].request
    assert (request.method, request.url) == ("POST", f"{base}/auth/token")
    form = parse_qs(request.body)
    assert form["client_secret"] == [HALO_SECRET]
    assert form["grant_type"] == ["client_credentials"]
    assert "Authorization" not in request.headers
    assert HALO_SECRET not in str(http.logger.messages)


def test_credentials_follow_plain_http_to_an_allowed_host(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    moved_to(mocked_http, "POST", "http://127.0.0.1:9000/token", "/token/v2", 307)
    mocked_http.post("http://127.0.0.1:9000/token/v2", json={"access_token": "x"})
    client().post(
        "http://127.0.0.1:9000/token", data={"client_secret": "abc"}, sends_credentials=True
    )
    assert [c.request.url for c in mocked_http.calls] == [
        "http://127.0.0.1:9000/token",
        "http://127.0.0.1:9000/token/v2",
    ]
    assert all(c.request.body == "client_secret=abc" for c in mocked_http.calls)


def test_a_streamed_download_closes_the_responses_it_moved_through(mocked_http):
    old = "https://cdn.aha.io/attachments/1/mockup.png"
    new = "https://files.aha.io/1/mockup.png"
    moved_to(mocked_http, "GET", old, new, 302)
    mocked_http.get(new, body=b"\x89PNG", content_type="image/png")
    http = client()
    assert http.download(old) == b"\x89PNG"
    first, second = mocked_http.calls
    assert (first.request.url, second.request.url) == (old, new)
    assert first.response.raw.closed
    assert first.request.req_kwargs["stream"] is True
    assert second.request.req_kwargs["stream"] is True
    assert f"GET {old} moved (302) to {new}" in str(http.logger.messages)


def test_a_caller_may_handle_redirects_itself(mocked_http):
    moved_to(mocked_http, "POST", HOOK, MOVED, 301)
    response = client().post(HOOK, json={}, allow_redirects=False)
    assert response.status_code == 301
    assert len(mocked_http.calls) == 1


def test_a_read_carrying_credentials_may_leave_them_behind_for_plain_http(mocked_http):
    url = "https://gitlab.example.com/api/v4/projects/1/uploads/a.png"
    moved_to(mocked_http, "GET", url, "http://files.example.com/a.png", 302)
    mocked_http.get("http://files.example.com/a.png", body=b"png")
    response = client().get(url, headers={"PRIVATE-TOKEN": "glpat-123456"}, sends_credentials=True)
    assert response.content == b"png"
    assert mocked_http.calls[0].request.headers["PRIVATE-TOKEN"] == "glpat-123456"
    assert "PRIVATE-TOKEN" not in mocked_http.calls[1].request.headers


def test_a_redirect_to_another_scheme_is_refused_naming_it(mocked_http):
    moved_to(mocked_http, "POST", HOOK, "ftp://files.example.com/drop", 307)
    with pytest.raises(InvalidUrlError, match=r"moved \(307\) to ftp://files.example.com/drop, "):
        client().post(HOOK, json={})
    assert len(mocked_http.calls) == 1
