"""What the event log keeps of an outbound request: headers filtered, bodies cut at 64 KB."""

from services.core import outbound_capture
from services.core.http import HttpClient
from services.core.logger import EventLogger

URL = "https://api.example.com/items"


def test_nothing_is_kept_outside_a_recorded_event(mocked_http):
    mocked_http.post(URL, json={})
    HttpClient(EventLogger()).post(URL, json={"a": 1})
    with outbound_capture.capturing() as sink:
        pass
    assert sink == []


def test_a_request_is_kept_with_credentials_filtered(mocked_http):
    mocked_http.post(URL, body=b"\xff\xfe\x00binary" * 3, status=201)
    with outbound_capture.capturing() as sink:
        HttpClient(EventLogger()).post(URL, data="x" * 70000, headers={"X-Api-Key": "k-1"})
    [call] = sink
    assert (call["method"], call["url"], call["status"]) == ("POST", URL, 201)
    assert call["request_headers"]["X-Api-Key"] == "[FILTERED]"
    assert call["request_body"].endswith("(cut at 64 KB of 70000 bytes)")
    assert call["response_body"] == "<binary: 27 bytes>"


def test_bodies_of_every_kind():
    body = outbound_capture._body
    assert body(None) == ""
    assert body("text") == "text"
    assert body(iter([b"x"])) == "<stream>"
    assert body("é".encode() * 40000).endswith("bytes)")
    cut = ("a" * (64 * 1024 - 1)).encode() + "é".encode()
    assert body(cut).startswith("aaa") and "cut at 64 KB" in body(cut)
