"""Trackers' own webhook signatures, declared on the service classes, override-able in
the integrations file."""

import hashlib
import hmac
import json

import pytest

from host.config import ConfigError, parse_config
from host.intake import create_app
from services.core.registry import default_registry
from spec.host.conftest import AHA_TOKEN, SECRET


def config(**tables):
    document = {
        "aha": {"domain": "acme", "token": AHA_TOKEN},
        "integrations": {
            name: {"secret": SECRET, "integration_id": "4242", **table}
            for name, table in tables.items()
        },
    }
    return parse_config(document, default_registry(), environ={})


@pytest.mark.parametrize(
    ("service", "signature"),
    [
        ("github_issues", "github"),
        ("github_commit_hook", "github"),
        ("gitlab_issues", "gitlab"),
        ("webhooks", None),
        ("bitbucket_commit_hook", None),
    ],
)
def test_a_service_class_declares_its_trackers_signature(service, signature):
    parsed = config(tracker={"service": service})
    assert parsed.integrations["tracker"].signature == signature


def test_the_config_key_overrides_the_declaration():
    parsed = config(
        other={"service": "github_issues", "signature": "gitlab"},
        off={"service": "gitlab_issues", "signature": "none"},
        added={"service": "webhooks", "signature": "github"},
    )
    signatures = {name: i.signature for name, i in parsed.integrations.items()}
    assert signatures == {"other": "gitlab", "off": None, "added": "github"}


def test_an_unknown_signature_is_named():
    with pytest.raises(ConfigError, match=r"\[integrations.x\] signature: one of github"):
        config(x={"service": "github_issues", "signature": "bitbucket"})


def signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_github_issues_webhook_needs_no_token_in_its_url(sqlite_engine):
    client = create_app(config(gh={"service": "github_issues"}), sqlite_engine).test_client()
    body = json.dumps({"action": "closed", "issue": {"number": 7}}).encode()
    answer = client.post(
        "/webhooks/gh",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signed(body), "X-GitHub-Event": "issues"},
    )
    assert answer.status_code == 202
    forged = client.post(
        "/webhooks/gh",
        data=body + b" ",
        content_type="application/json",
        headers={"X-Hub-Signature-256": signed(body)},
    )
    assert forged.status_code == 401
    assert [job.payload["issue"] for job in sqlite_engine.store.jobs()] == [{"number": 7}]


def test_a_gitlab_issues_webhook_needs_no_token_in_its_url(sqlite_engine):
    client = create_app(config(gl={"service": "gitlab_issues"}), sqlite_engine).test_client()
    body = {"object_kind": "issue"}
    answer = client.post("/webhooks/gl", json=body, headers={"X-Gitlab-Token": SECRET})
    assert answer.status_code == 202
    wrong = client.post("/webhooks/gl", json=body, headers={"X-Gitlab-Token": "x" * 24})
    assert wrong.status_code == 401


def test_signature_none_asks_for_the_token_again(sqlite_engine):
    parsed = config(gl={"service": "gitlab_issues", "signature": "none"})
    client = create_app(parsed, sqlite_engine).test_client()
    answer = client.post("/webhooks/gl", json={}, headers={"X-Gitlab-Token": SECRET})
    assert answer.status_code == 401
