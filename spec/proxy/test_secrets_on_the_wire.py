"""A secret never reaches an answer or a log line through the proxy, in any encoding."""

import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from proxy.app import create_app
from services.core.registry import load_registry

REDMINE = "https://redmine.example.com"


def forms_of(secret):
    """The secret as given and stripped, JSON-, repr- and percent-encoded."""
    forms = set()
    for text in (secret, secret.strip()):
        forms |= {
            text,
            json.dumps(text)[1:-1],
            json.dumps(text, ensure_ascii=False)[1:-1],
            repr(text)[1:-1],
            repr(text.encode())[2:-1],
            quote(text),
            quote(text, safe=""),
            quote_plus(text),
        }
    return forms


@pytest.fixture
def client():
    return create_app(load_registry()).test_client()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG, logger="services")
    return caplog


def send_installed(client, user_data, api_key):
    body = {
        "service_name": "redmine",
        "event": "installed",
        "user_data": {**user_data, "redmine_url": REDMINE, "api_key": api_key},
        "payload": {},
        "meta_data": {"kept": "yes"},
    }
    answer = client.post("/send_event", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    return answer.get_json()


def assert_nowhere(secret, answer, logs):
    texts = {
        "messages": json.dumps(answer["messages"], ensure_ascii=False),
        "exception": json.dumps(answer["exception"], ensure_ascii=False),
        "meta_data": json.dumps(answer["meta_data"], ensure_ascii=False),
        "raw answer": json.dumps(answer),
        "log": logs.text,
    }
    for where, text in texts.items():
        for form in forms_of(secret):
            assert form not in text, f"{form!r} in the {where}"


@pytest.mark.parametrize(
    "api_key", ['RMKEY-"s3cr3t"\\0123456789', "RMKEY-clé-secrète-0123456789", "RMKEY s3cr3t+/="]
)
def test_a_key_echoed_in_a_json_error_body_is_in_no_form_in_the_answer_or_the_log(
    client, user_data, mocked_http, logs, api_key
):
    mocked_http.get(f"{REDMINE}/projects.json?limit=100&offset=0", json={"projects": []})
    echo = {"errors": [f"Invalid key {api_key}"], "key": quote(api_key)}
    mocked_http.get(
        f"{REDMINE}/trackers.json",
        status=500,
        body=json.dumps(echo) + json.dumps(echo, ensure_ascii=False),
        content_type="application/json",
    )
    answer = send_installed(client, user_data, api_key)
    assert [c.request.method for c in mocked_http.calls] == ["GET", "GET"]
    assert mocked_http.calls[1].request.url == f"{REDMINE}/trackers.json"
    assert mocked_http.calls[1].request.headers["X-Redmine-API-Key"] == api_key
    assert answer["exception"]["exception_class"] == "RemoteError"
    assert "GET /trackers.json answered HTTP 500" in answer["exception"]["message"]
    assert "[FILTERED]" in answer["exception"]["message"]
    assert answer["meta_data"]["kept"] == "yes"
    assert_nowhere(api_key, answer, logs)


def test_a_key_pasted_with_a_newline_is_in_no_form_in_the_header_error(
    client, user_data, mocked_http, logs
):
    api_key = "RMKEY-s3cr3t-0123456789\n"
    answer = send_installed(client, user_data, api_key)
    assert len(mocked_http.calls) == 0
    assert "header value" in answer["exception"]["message"]
    assert "[FILTERED]" in answer["exception"]["message"]
    assert answer["meta_data"] == {"kept": "yes"}
    assert_nowhere(api_key, answer, logs)
