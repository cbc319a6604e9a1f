"""The headers a service may need to verify a signature reach it, apart from the
payload; those that carry a secret are filtered in job views."""

import pytest
from werkzeug.test import EnvironBuilder

from host.dispatch import Dispatcher
from host.headers import FILTERED, kept_headers
from host.intake import create_app
from host.jobs import Attempt, Job
from services.core.service import Service
from spec.host import sample_services
from spec.host.conftest import SECRET, host_config

HEADERS = {
    "X-GitHub-Event": "issues",
    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "X-Gitlab-Token": SECRET,
    "X-Custom-Delivery": "d-17",
    "X-Aha-Services-Token": SECRET,
    "Authorization": "Bearer not-kept",
    "Accept-Language": "en",
    "User-Agent": "GitHub-Hookshot/044aadd",
}


@pytest.fixture
def config():
    return host_config({"look": {"service": "inspector"}})


def test_the_intake_keeps_the_trackers_headers_and_those_the_service_names(config, engine):
    client = create_app(config, engine).test_client()
    answer = client.post("/webhooks/look", json={"action": "opened"}, headers=HEADERS)
    assert answer.status_code == 202
    job = engine.store.get(answer.json["job"])
    assert job.headers == {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/044aadd",
        "x-github-event": "issues",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-gitlab-token": SECRET,
        "x-custom-delivery": "d-17",
    }
    assert job.payload == {"action": "opened"}


def test_the_service_reads_them_as_request_headers_beside_its_payload(config, engine):
    client = create_app(config, engine).test_client()
    # A payload with a "headers" key of its own keeps it: nothing is mixed into the body.
    body = {"headers": {"from": "the sender"}}
    client.post("/webhooks/look", json=body, headers=HEADERS)
    sample_services.calls.clear()
    Dispatcher(config, engine.store, lambda *args: None).drain("look")
    [(kind, (headers, payload))] = sample_services.calls
    assert kind == "inspector"
    assert payload == body
    assert headers["x-github-event"] == "issues"
    assert headers["x-custom-delivery"] == "d-17"
    assert "x-aha-services-token" not in headers


def test_job_views_filter_the_headers_that_carry_a_secret():
    environ = EnvironBuilder(headers=HEADERS).get_environ()
    job = Job("look", "webhook", {}, headers=kept_headers(Service, environ))
    shown = job.to_view()["headers"]
    assert shown["x-gitlab-token"] == FILTERED
    assert shown["x-github-delivery"] == HEADERS["X-GitHub-Delivery"]
    assert job.headers["x-gitlab-token"] == SECRET  # the service still gets it


def test_a_job_is_stored_and_read_back_whole(engine):
    job = Job("look", "webhook", {"a": [1, {"b": None}]}, headers={"x-github-event": "push"})
    engine.store.add_job(job)
    job.attempts.append(Attempt(started_at=1.5, duration=0.25, outcome="retrying", error="E"))
    engine.store.save(job)
    assert engine.store.get(job.id) == job
    assert Job.from_record({**job.to_record(), "added_later": 1}) == job


def test_a_secret_header_never_shows_in_the_services_messages():
    from services.core.events import handle_event

    class Echo(Service):
        abstract = True  # not registered

        def receive_webhook(self) -> None:
            self.logger.info(f"got {dict(self.request_headers)}")

    headers = {"X-Gitlab-Token": SECRET, "X-A": "b"}
    answer, _ = handle_event(Echo, "webhook", request_headers=headers)
    [message] = [m["message"] for m in answer["messages"] if "got" in m["message"]]
    assert SECRET not in message and "'x-a': 'b'" in message


def test_an_event_from_the_proxy_has_no_request_headers():
    assert dict(Service().request_headers) == {}
    assert dict(Service(request_headers={"X-Hub-Signature": "s"}).request_headers) == {
        "x-hub-signature": "s"
    }
