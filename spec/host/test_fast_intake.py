"""The intake's fast path answers with the bytes Flask's views would send, stores the
same job, and passes every other request, refusals above all, to Flask."""

import hashlib
import hmac
import json
import logging

import pytest
from werkzeug.test import Client

from host import jobs
from host.engine import build_engine
from host.fast_intake import IntakeFastPath
from host.intake import create_app
from host.state import StoreUnavailable
from spec.host.conftest import SECRET, host_config

AHA = json.dumps({"event": "create_feature", "feature": {"reference_num": "APP-1"}}).encode()
SIGNATURE = "sha256=" + hmac.new(SECRET.encode(), b'{"a": 1}', hashlib.sha256).hexdigest()
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# method, path, body, content type, headers
REQUESTS = {
    "accepted": ("POST", f"/aha/hooks?token={SECRET}", AHA, JSON, {}),
    "token in a header": ("POST", "/aha/hooks", AHA, JSON, {"X-Aha-Services-Token": SECRET}),
    "empty header, query token": (
        "POST",
        f"/aha/hooks?a=1&token={SECRET}&token=x",
        AHA,
        JSON,
        {"X-Aha-Services-Token": ""},
    ),
    "webhook": (
        "POST",
        f"/webhooks/hooks?token={SECRET}",
        b'{"a": [1, 2.5, null]}',
        "application/json; charset=utf-8",
        {"X-GitHub-Event": "issues", "User-Agent": "GitHub-Hookshot/1"},
    ),
    "empty webhook": ("POST", f"/webhooks/hooks?token={SECRET}", b" \n", JSON, {}),
    "no content type": ("POST", f"/webhooks/hooks?token={SECRET}", b"{}", "", {}),
    "form": ("POST", f"/webhooks/hooks?token={SECRET}", b"a=1&b=", FORM, {}),
    "form with parameters": ("POST", f"/webhooks/hooks?token={SECRET}", b"a=1", FORM + "; x=y", {}),
    "signed": ("POST", "/webhooks/count", b'{"a": 1}', JSON, {"X-Hub-Signature-256": SIGNATURE}),
    "badly signed": ("POST", "/webhooks/count", b'{"a": 1}', JSON, {"X-Hub-Signature-256": "x"}),
    "signed on /aha": ("POST", "/aha/count", AHA, JSON, {"X-Hub-Signature-256": SIGNATURE}),
    "no token": ("POST", "/aha/hooks", AHA, JSON, {}),
    "no token in the query": ("POST", "/aha/hooks?tok=1&x", AHA, JSON, {}),
    "wrong token": ("POST", "/aha/hooks?token=wrong-secret-0000000", AHA, JSON, {}),
    "token not ASCII": ("POST", "/aha/hooks?token=%C3%A9", AHA, JSON, {}),
    "bad percent": ("POST", "/aha/hooks?token=%FF", AHA, JSON, {}),
    "unknown": ("POST", f"/aha/nope?token={SECRET}", AHA, JSON, {}),
    "deeper path": ("POST", f"/aha/hooks/x?token={SECRET}", AHA, JSON, {}),
    "trailing slash": ("POST", f"/aha/hooks/?token={SECRET}", AHA, JSON, {}),
    "other kind": ("POST", f"/other/hooks?token={SECRET}", AHA, JSON, {}),
    "GET": ("GET", f"/aha/hooks?token={SECRET}", b"", JSON, {}),
    "PUT": ("PUT", f"/aha/hooks?token={SECRET}", AHA, JSON, {}),
    "malformed": ("POST", f"/aha/hooks?token={SECRET}", b"{not json", JSON, {}),
    "not an object": ("POST", f"/aha/hooks?token={SECRET}", b"[1]", JSON, {}),
    "NaN": ("POST", f"/aha/hooks?token={SECRET}", b'{"event": "audit", "n": NaN}', JSON, {}),
    "deep": ("POST", f"/aha/hooks?token={SECRET}", b"[" * 100000 + b"]" * 100000, JSON, {}),
    "no event": ("POST", f"/aha/hooks?token={SECRET}", b'{"feature": {}}', JSON, {}),
    "bad event": ("POST", f"/aha/hooks?token={SECRET}", b'{"event": "Drop Table"}', JSON, {}),
    "event not text": ("POST", f"/aha/hooks?token={SECRET}", b'{"event": 7}', JSON, {}),
    "webhook not JSON": ("POST", f"/webhooks/hooks?token={SECRET}", b"nope", JSON, {}),
    "webhook list": ("POST", f"/webhooks/hooks?token={SECRET}", b"[]", JSON, {}),
    "too large": (
        "POST",
        f"/aha/hooks?token={SECRET}",
        b'{"x": "' + b"a" * (1 << 20) + b'"}',
        JSON,
        {},
    ),
    "UTF-16": ("POST", f"/aha/hooks?token={SECRET}", AHA.decode().encode("utf-16"), JSON, {}),
}

STATUS = {
    **dict.fromkeys(REQUESTS, "400 BAD REQUEST"),
    **dict.fromkeys(
        ("accepted", "token in a header", "empty header, query token", "webhook"),
        "202 ACCEPTED",
    ),
    **dict.fromkeys(
        ("empty webhook", "no content type", "form", "form with parameters", "signed", "UTF-16"),
        "202 ACCEPTED",
    ),
    **dict.fromkeys(
        ("badly signed", "signed on /aha", "no token", "wrong token", "token not ASCII"),
        "401 UNAUTHORIZED",
    ),
    **dict.fromkeys(
        ("no token in the query",),
        "401 UNAUTHORIZED",
    ),
    "bad percent": "401 UNAUTHORIZED",
    **dict.fromkeys(("unknown", "deeper path", "trailing slash", "other kind"), "404 NOT FOUND"),
    "GET": "405 METHOD NOT ALLOWED",
    "PUT": "405 METHOD NOT ALLOWED",
    "too large": "413 REQUEST ENTITY TOO LARGE",
}


@pytest.fixture
def config():
    integrations = {
        "hooks": {"service": "webhooks", "settings": {"hook_url": "https://h.example.com/x"}},
        "count": {"service": "counter", "signature": "github"},
    }
    return host_config(integrations)


def answer(wsgi_app, method, path, body, content_type, headers):
    response = Client(wsgi_app).open(
        path, method=method, data=body, content_type=content_type or None, headers=headers
    )
    return response.status, list(response.headers.items()), response.get_data()


def stored(engine):
    found = [
        (job.id, job.integration, job.event, job.payload, job.headers, job.state)
        for job in engine.store.jobs()
    ]
    return found, engine.store.counters(), engine.huey.pending_count()


@pytest.mark.parametrize("kind", list(REQUESTS))
def test_every_request_gets_the_answer_and_the_job_flask_gives(config, tmp_path, kind, monkeypatch):
    outcomes = []
    for way in ("fast", "flask"):
        engine = build_engine({"AHA_SERVICES_DATA": str(tmp_path / way)})
        app = create_app(config, engine)
        assert isinstance(app.wsgi_app, IntakeFastPath)
        monkeypatch.setattr(jobs, "new_job_id", lambda: "0" * 32)
        outcomes.append(
            (answer(app if way == "fast" else app.wsgi_app.app, *REQUESTS[kind]), stored(engine))
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][0] == STATUS[kind]


@pytest.mark.parametrize("kind", ["accepted", "webhook", "empty webhook", "no content type"])
def test_a_well_formed_event_never_reaches_flask(config, tmp_path, kind):
    engine = build_engine({"AHA_SERVICES_DATA": str(tmp_path)})
    app = create_app(config, engine)
    app.wsgi_app.app = lambda *_: pytest.fail("reached Flask")
    status, headers, body = answer(app, *REQUESTS[kind])
    assert status == "202 ACCEPTED"
    assert headers == [("Content-Type", JSON), ("Content-Length", str(len(body)))]
    [job] = engine.store.jobs()
    assert json.loads(body) == {"job": job.id}


@pytest.mark.parametrize(
    ("failure", "status", "message", "logged"),
    [
        (
            StoreUnavailable("the state store is unavailable: disk I/O error"),
            "503",
            "the queue is unavailable",
            "disk I/O error",
        ),
        (RuntimeError("boom"), "500", "an internal error", "intake failed"),
    ],
)
def test_a_store_that_fails_gets_flask_s_answer_from_the_fast_path(
    config, tmp_path, monkeypatch, caplog, failure, status, message, logged
):
    answers = []
    for way in ("fast", "flask"):
        engine = build_engine({"AHA_SERVICES_DATA": str(tmp_path / way)})

        def broken(job):
            raise failure

        monkeypatch.setattr(engine.store, "add_job", broken)
        app = create_app(config, engine)
        with caplog.at_level(logging.ERROR, logger="host.intake"):
            answers.append(
                answer(app if way == "fast" else app.wsgi_app.app, *REQUESTS["accepted"])
            )
        assert logged in caplog.text
        caplog.clear()
    assert answers[0] == answers[1]
    code, _, body = answers[0]
    assert code.startswith(status)
    assert json.loads(body) == {"error": f"The event was not stored: {message}"}


def test_a_job_stored_but_not_queued_is_still_accepted(config, tmp_path, caplog):
    engine = build_engine({"AHA_SERVICES_DATA": str(tmp_path)})

    def queue_down(name, eta):
        raise ConnectionError("queue down")

    engine.enqueue = queue_down
    with caplog.at_level(logging.WARNING, logger="host.intake"):
        status, _, body = answer(create_app(config, engine), *REQUESTS["accepted"])
    [job] = engine.store.jobs()
    assert status == "202 ACCEPTED" and json.loads(body) == {"job": job.id}
    assert f"job {job.id} stored, not queued yet: ConnectionError" in caplog.text
