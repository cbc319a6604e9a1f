"""The host's console: queue depth, jobs by state and integration, a job's attempts,
retrying a failed job; read through the ``aha_services.jobs`` entry point."""

import pytest

import console.__main__ as serve
from console.app import create_app
from console.jobs_views import UnavailableJobs
from host import job_source
from host.engine import build_engine
from host.intake import create_app as create_intake
from host.jobs import DELIVERED, FAILED, QUEUED, RETRYING, Attempt, Job
from services.core import jobs as core_jobs
from services.core.jobs import JobsOverview, JobsUnavailable, load_job_source
from services.core.registry import load_registry

INTAKE_SECRET = "console-intake-secret-4455"
AHA_TOKEN = "console-aha-token-667788"
HOOK_PASSWORD = "console-hook-password-9911"


@pytest.fixture
def environment(tmp_path, monkeypatch):
    config = tmp_path / "integrations.toml"
    config.write_text(
        '[aha]\ndomain = "acme"\ntoken = "${AHA_API_TOKEN}"\n'
        '[integrations.hooks]\nservice = "webhooks"\nsecret = "${HOOKS_SECRET}"\n'
        'settings = { hook_url = "https://h.example.com/x" }\n'
        '[integrations.other]\nservice = "webhooks"\nsecret = "${HOOKS_SECRET}"\n'
        'settings = { hook_url = "https://h.example.com/y" }\n'
    )
    monkeypatch.setenv("AHA_SERVICES_CONFIG", str(config))
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("AHA_API_TOKEN", AHA_TOKEN)
    monkeypatch.setenv("HOOKS_SECRET", INTAKE_SECRET)
    return build_engine()


def stored(engine, integration, state, payload=None, attempts=1, headers=None):
    job = Job(integration, "create_feature", payload or {"feature": {"name": "Export"}})
    job.headers = headers or {}
    engine.store.add_job(job)
    job.state = state
    for number in range(attempts):
        job.attempts.append(
            Attempt(
                started_at=job.received_at + number,
                duration=0.25,
                outcome="error" if state == FAILED else state,
                error="RemoteError: the hook answered 502",
                messages=[{"severity": 3, "message": f"attempt {number + 1} failed"}],
            )
        )
    engine.store.save(job)
    return job


@pytest.fixture
def client(environment):
    app = create_app(load_registry(use_entry_points=False), jobs=load_job_source())
    return app.test_client()


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_the_entry_point_opens_the_hosts_jobs(environment):
    source = load_job_source()
    assert isinstance(source, job_source.HostJobSource)
    assert source.overview() == JobsOverview(environment.where, {}, {})


def test_the_overview_shows_depth_and_counts_by_state_and_integration(client, environment):
    stored(environment, "hooks", QUEUED, attempts=0)
    stored(environment, "hooks", RETRYING)
    stored(environment, "hooks", FAILED, attempts=3)
    stored(environment, "other", DELIVERED)
    html = page(client, "/jobs")
    assert '<strong id="depth">2</strong>' in html
    assert 'href="/jobs?integration=hooks&amp;state=failed">1</a>' in html
    assert 'href="/jobs?integration=other&amp;state=delivered">1</a>' in html
    assert 'href="/jobs?state=retrying">1</a>' in html
    assert html.count('<tr class="job-') == 4
    assert '<a href="/jobs">Jobs</a>' in html  # in the menu


def test_the_list_filters_by_state_and_integration(client, environment):
    failed = stored(environment, "hooks", FAILED)
    delivered = stored(environment, "other", DELIVERED)
    html = page(client, "/jobs?state=failed")
    assert f"/jobs/{failed.id}" in html and f"/jobs/{delivered.id}" not in html
    html = page(client, "/jobs?integration=other")
    assert f"/jobs/{delivered.id}" in html and f"/jobs/{failed.id}" not in html
    assert "No jobs." in page(client, "/jobs?integration=nobody")
    assert "state: one of" in page(client, "/jobs?state=lost", status=400)


def test_a_job_shows_its_attempts_and_payload_without_secrets(client, environment):
    payload = {"note": f"intake {INTAKE_SECRET}", "token": AHA_TOKEN, "n": 7}
    headers = {"x-gitlab-event": "Issue Hook", "x-gitlab-token": "gitlab-header-token-123"}
    job = stored(environment, "hooks", FAILED, payload=payload, attempts=2, headers=headers)
    html = page(client, f"/jobs/{job.id}")
    assert "x-gitlab-event: Issue Hook" in html
    assert "x-gitlab-token: [FILTERED]" in html and "gitlab-header-token-123" not in html
    assert "Attempts (2)" in html
    assert "attempt 1 failed" in html and "attempt 2 failed" in html
    assert "RemoteError: the hook answered 502" in html
    assert "250.0 ms" in html
    assert "&#34;n&#34;: 7" in html
    assert INTAKE_SECRET not in html and AHA_TOKEN not in html
    assert "[FILTERED]" in html
    assert ">Retry</button>" in html
    assert "No job nope" in page(client, "/jobs/nope", status=404)


def test_a_job_page_filters_secret_members_inside_json_text(client, environment):
    carried = '{"action": "opened", "password": "carried-password-77"}'
    job = stored(environment, "hooks", FAILED, payload={"payload": carried})
    html = page(client, f"/jobs/{job.id}")
    assert "carried-password-77" not in html
    assert "[FILTERED]" in html


def test_retry_queues_a_failed_job_again(client, environment):
    job = stored(environment, "hooks", FAILED, attempts=3)
    job.tries = 3
    environment.store.save(job)
    response = client.post(f"/jobs/{job.id}/retry")
    assert response.status_code == 303
    assert "notice=Queued+again" in response.headers["Location"]
    again = environment.store.get(job.id)
    assert (again.state, again.tries, again.next_attempt_at) == (QUEUED, 0, 0.0)
    assert len(again.attempts) == 3  # the history stays
    assert environment.huey.pending_count() == 1
    html = page(client, f"/jobs/{job.id}?notice=Queued+again")
    assert "Queued again" in html and ">Retry</button>" not in html


def test_retry_leaves_a_job_that_is_not_failed_alone(client, environment):
    job = stored(environment, "hooks", DELIVERED)
    response = client.post(f"/jobs/{job.id}/retry")
    assert "Only+a+failed+job" in response.headers["Location"]
    assert environment.store.get(job.id).state == DELIVERED
    assert environment.huey.pending_count() == 0
    assert client.post("/jobs/nope/retry").status_code == 303


def test_a_retry_posted_from_another_site_is_refused(client, environment):
    job = stored(environment, "hooks", FAILED)
    response = client.post(f"/jobs/{job.id}/retry", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert environment.store.get(job.id).state == FAILED


def test_a_store_that_fails_is_a_page_that_says_so(client, environment, monkeypatch):
    from host.state import StoreUnavailable

    def locked(*args, **kwargs):
        raise StoreUnavailable("the state store is unavailable: database is locked")

    for method in ("state_counts", "jobs", "get"):
        monkeypatch.setattr(environment.store.__class__, method, locked)
    assert "database is locked" in page(client, "/jobs", status=503)
    assert "database is locked" in page(client, "/jobs/x", status=503)
    response = client.post("/jobs/x/retry")
    assert response.status_code == 503


def test_the_development_consoles_menu_has_no_jobs_and_its_jobs_paths_404(tmp_path):
    client = create_app(load_registry(use_entry_points=False)).test_client()
    assert "/jobs" not in page(client, "/send")
    assert client.get("/jobs").status_code == 404


@pytest.mark.parametrize("path", ["/", "/events", "/events/stream", "/events/1", "/send", "/jobs"])
def test_no_console_path_is_served_on_the_intakes_port(environment, path):
    from host.config import load_config

    intake = create_intake(load_config(), environment).test_client()
    response = intake.get(path)
    assert response.status_code == 404
    assert response.is_json


def test_without_a_host_installed_the_loader_says_so(monkeypatch):
    monkeypatch.setattr(core_jobs, "entry_points", lambda group: [])
    with pytest.raises(JobsUnavailable, match="no host is installed"):
        load_job_source()


def test_a_host_that_cannot_open_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(JobsUnavailable, match="missing.toml"):
        load_job_source()


def test_the_host_console_serves_its_other_pages_when_the_jobs_cannot_open(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("AHA_SERVICES_CONFIG", str(tmp_path / "missing.toml"))
    source = serve.host_jobs()
    assert isinstance(source, UnavailableJobs)
    assert "the host's jobs are unavailable" in capsys.readouterr().err
    client = create_app(load_registry(use_entry_points=False), jobs=source).test_client()
    assert "missing.toml" in page(client, "/jobs", status=503)
    assert client.get("/send").status_code == 200
    with pytest.raises(JobsUnavailable):
        source.job("x")
    with pytest.raises(JobsUnavailable):
        source.retry("x")


def test_the_host_console_port_defaults_to_4581(monkeypatch):
    assert serve.port_setting(serve.HOST_PORT_SETTING, serve.HOST_DEFAULT_PORT) == 4581
    monkeypatch.setenv("HOST_CONSOLE_PORT", "0")
    serve.main(["--host"])  # off: returns at once
    monkeypatch.setenv("HOST_CONSOLE_PORT", "console")
    with pytest.raises(SystemExit, match="HOST_CONSOLE_PORT"):
        serve.main(["--host", "--parent", "1"])


def test_the_host_console_binds_loopback_with_the_jobs(environment, monkeypatch, capsys):
    served = {}

    class Server:
        def serve_forever(self):
            served["ran"] = True

    def make_server(address, port, app, threaded):
        served.update(address=address, port=port, app=app)
        return Server()

    monkeypatch.setattr(serve.os, "nice", lambda n: 0)
    monkeypatch.setattr(serve, "make_server", make_server)
    monkeypatch.setenv("HOST", "0.0.0.0")
    serve.main(["--host"])
    assert (served["address"], served["port"], served["ran"]) == ("127.0.0.1", 4581, True)
    assert served["app"].test_client().get("/jobs").status_code == 200
    assert "the host's console: http://127.0.0.1:4581/" in capsys.readouterr().err
