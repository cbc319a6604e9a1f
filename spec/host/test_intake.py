"""The intake: 202 only once stored, JSON refusals that store nothing, health, metrics."""

import hashlib
import hmac
import json
import sqlite3

import pytest

from host.engine import build_engine
from host.intake import create_app
from spec.host.conftest import SECRET, host_config


@pytest.fixture
def config():
    return host_config(
        {
            "hooks": {"service": "webhooks", "settings": {"hook_url": "https://h.example.com/x"}},
            "count": {"service": "counter", "signature": "github"},
            "lab": {"service": "counter", "signature": "gitlab"},
        }
    )


@pytest.fixture
def client(config, engine):
    return create_app(config, engine).test_client()


def post(client, path, body=None, token=SECRET, **kwargs):
    query = f"?token={token}" if token else ""
    data = json.dumps(body) if body is not None else kwargs.pop("data", b"")
    return client.post(
        path + query,
        data=data,
        content_type=kwargs.pop("content_type", "application/json"),
        **kwargs,
    )


def test_an_aha_event_is_stored_then_acknowledged(client, engine):
    body = {"event": "create_feature", "feature": {"reference_num": "APP-1"}}
    answer = post(client, "/aha/hooks", body)
    assert answer.status_code == 202
    job = engine.store.get(answer.json["job"])
    assert (job.integration, job.event, job.payload) == ("hooks", "create_feature", body)
    assert engine.huey.pending_count() == 1


def test_a_burst_for_one_integration_queues_one_task(client, engine):
    for n in range(3):
        assert post(client, "/aha/hooks", {"event": "create_feature", "n": n}).status_code == 202
    post(client, "/aha/count", {"event": "create_feature"})
    assert len(engine.store.jobs()) == 4
    # One look at each integration: the drain runs its jobs one after another.
    assert engine.huey.pending_count() == 2


def test_the_secret_may_come_in_a_header(client, engine):
    answer = post(
        client,
        "/aha/hooks",
        {"event": "audit", "audit": {}},
        token=None,
        headers={"X-Aha-Services-Token": SECRET},
    )
    assert answer.status_code == 202


def test_a_third_party_webhook_runs_the_webhook_event(client, engine):
    answer = post(client, "/webhooks/hooks", {"action": "closed"})
    job = engine.store.get(answer.json["job"])
    assert (job.event, job.payload) == ("webhook", {"action": "closed"})


def test_a_form_webhook_becomes_its_fields(client, engine):
    answer = post(
        client,
        "/webhooks/hooks",
        data="payload=%7B%7D&x=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert engine.store.get(answer.json["job"]).payload == {"payload": "{}", "x": "1"}


def test_a_github_signature_stands_in_for_the_token(client, engine):
    body = json.dumps({"action": "opened"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = post(
        client, "/webhooks/count", data=body, token=None, headers={"X-Hub-Signature-256": signature}
    )
    assert answer.status_code == 202
    wrong = post(
        client,
        "/webhooks/count",
        data=body,
        token=None,
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert wrong.status_code == 401
    # Only a webhook may be signed: Aha!'s own events carry the token.
    aha = post(
        client, "/aha/count", data=body, token=None, headers={"X-Hub-Signature-256": signature}
    )
    assert aha.status_code == 401


def test_a_gitlab_token_stands_in_for_the_token(client):
    answer = post(
        client,
        "/webhooks/lab",
        {"object_kind": "issue"},
        token=None,
        headers={"X-Gitlab-Token": SECRET},
    )
    assert answer.status_code == 202


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        ("/aha/nope", {"body": {"event": "audit"}}, 404),
        ("/aha/hooks", {"body": {"event": "audit"}, "token": None}, 401),
        ("/aha/hooks", {"body": {"event": "audit"}, "token": "wrong-secret-000000000"}, 401),
        ("/aha/hooks", {"data": b"{not json"}, 400),
        ("/aha/hooks", {"data": b"[1, 2]"}, 400),
        ("/aha/hooks", {"data": b'{"event": "audit", "score": NaN}'}, 400),
        ("/webhooks/hooks", {"data": b'{"value": -Infinity}'}, 400),
        ("/aha/hooks", {"body": {"feature": {}}}, 400),
        ("/aha/hooks", {"body": {"event": "Drop Table"}}, 400),
        ("/webhooks/hooks", {"data": b"nope"}, 400),
        ("/aha/hooks", {"data": b'{"event": "audit", "x": "' + b"a" * (1 << 20) + b'"}'}, 413),
    ],
)
def test_a_refused_request_is_json_and_stores_nothing(client, engine, path, kwargs, status):
    answer = post(client, path, **kwargs)
    assert answer.status_code == status
    assert answer.is_json and answer.json["error"]
    assert SECRET not in answer.get_data(as_text=True)
    assert engine.store.jobs() == []
    assert engine.huey.pending_count() == 0


def test_a_locked_sqlite_file_is_a_503_and_nothing_half_stored(config, tmp_path):
    engine = build_engine(
        {"AHA_SERVICES_DATA": str(tmp_path), "AHA_SERVICES_SQLITE_TIMEOUT": "0.1"}
    )
    client = create_app(config, engine).test_client()
    holder = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        answer = post(client, "/aha/hooks", {"event": "audit"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503
    assert answer.json == {"error": "The event was not stored: the queue is unavailable"}
    assert engine.store.jobs() == []
    assert engine.huey.pending_count() == 0


def test_a_read_only_database_is_a_503(config, tmp_path, monkeypatch):
    """A file SQLite can only read (a read-only mount, a file the host may not write)."""
    from host import sqlite_state

    engine = build_engine({"AHA_SERVICES_DATA": str(tmp_path)})
    client = create_app(config, engine).test_client()
    original = sqlite_state.sqlite3.connect

    def read_only(path, **kwargs):
        return original(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(sqlite_state.sqlite3, "connect", read_only)
    engine.store._local.db = None
    answer = post(client, "/aha/hooks", {"event": "audit"})
    assert answer.status_code == 503
    monkeypatch.undo()
    engine.store._local.db = None
    assert engine.store.jobs() == []


def test_healthz_answers_when_the_stores_do(client, config, tmp_path):
    assert client.get("/healthz").json == {"status": "ok"}
    engine = build_engine({"AHA_SERVICES_QUEUE": "redis://127.0.0.1:1/0"})
    down = create_app(config, engine).test_client().get("/healthz")
    assert down.status_code == 503
    assert down.json["status"] == "unavailable"


def test_healthz_is_503_while_the_sqlite_file_takes_no_writes(config, tmp_path, monkeypatch):
    """A store that still reads but cannot store a job is not healthy: every intake
    request would be a 503."""
    from host import sqlite_state

    engine = build_engine(
        {"AHA_SERVICES_DATA": str(tmp_path), "AHA_SERVICES_SQLITE_TIMEOUT": "0.1"}
    )
    client = create_app(config, engine).test_client()
    holder = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = client.get("/healthz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.status_code == 503
    assert locked.json["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200
    original = sqlite_state.sqlite3.connect

    def read_only(path, **kwargs):
        return original(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(sqlite_state.sqlite3, "connect", read_only)
    engine.store._local.db = engine.store._writing = None
    assert client.get("/healthz").status_code == 503
    monkeypatch.undo()
    engine.store._local.db = engine.store._writing = None
    assert engine.store.jobs() == []


def test_metrics_count_events_jobs_and_attempts(client, engine):
    post(client, "/aha/hooks", {"event": "audit"})
    post(client, "/aha/hooks", {"event": "audit"}, token="wrong-secret-000000000")
    post(client, "/aha/nope", {"event": "audit"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'aha_services_events_received_total{integration="hooks",outcome="accepted"} 1.0' in text
    assert (
        'aha_services_events_received_total{integration="hooks",outcome="unauthorized"} 1.0' in text
    )
    assert (
        'aha_services_events_received_total{integration="(unknown)",'
        'outcome="unknown_integration"} 1.0'
    ) in text
    assert 'aha_services_jobs{state="queued"} 1.0' in text
    assert 'aha_services_attempt_duration_seconds_bucket{le="+Inf"} 0.0' in text
    assert SECRET not in text
