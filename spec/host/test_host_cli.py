"""``aha-services jobs ...`` and ``config check`` on a SQLite data folder."""

import json
import sqlite3

import pytest
from click.testing import CliRunner

from host.engine import build_engine
from host.jobs import DELIVERED, FAILED, Attempt, Job
from services.core.cli import main

SECRET = "cli-intake-secret-000111"
TOKEN = "cli-aha-token-000222333"


@pytest.fixture
def environment(tmp_path, monkeypatch):
    config = tmp_path / "integrations.toml"
    config.write_text(
        '[aha]\ndomain = "acme"\ntoken = "${AHA_API_TOKEN}"\n'
        '[integrations.hooks]\nservice = "webhooks"\nsecret = "${HOOKS_SECRET}"\n'
        'settings = { hook_url = "https://h.example.com/x" }\n'
    )
    monkeypatch.setenv("AHA_SERVICES_CONFIG", str(config))
    monkeypatch.setenv("AHA_SERVICES_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("AHA_API_TOKEN", TOKEN)
    monkeypatch.setenv("HOOKS_SECRET", SECRET)
    return build_engine()


def run(*args):
    return CliRunner().invoke(main, list(args))


def stored(engine, state, age=0.0, payload=None):
    job = Job("hooks", "create_feature", payload or {"n": 1})
    job.received_at -= age
    engine.store.add_job(job)
    job.state = state
    job.attempts.append(Attempt(started_at=job.received_at, outcome=state, error="RemoteError"))
    engine.store.save(job)
    return job


def test_list_filters_by_state_and_integration(environment):
    failed, delivered = stored(environment, FAILED), stored(environment, DELIVERED)
    result = run("jobs", "list", "--state", "failed")
    assert result.exit_code == 0
    assert failed.id in result.output and delivered.id not in result.output
    assert run("jobs", "list", "--integration", "other").output == ""


def test_show_redacts_secrets_in_the_payload(environment):
    job = stored(environment, FAILED, payload={"token": TOKEN, "note": f"secret {SECRET}"})
    result = run("jobs", "show", job.id)
    assert result.exit_code == 0
    assert TOKEN not in result.output and SECRET not in result.output
    assert json.loads(result.output)["state"] == FAILED
    assert run("jobs", "show", "nope").exit_code == 2


def test_show_redacts_secret_members_inside_json_text(environment):
    # A form-encoded webhook carries its event as JSON text under ``payload``.
    carried = json.dumps({"action": "opened", "api_key": "form-carried-key-55"})
    job = stored(environment, FAILED, payload={"payload": carried})
    result = run("jobs", "show", job.id)
    assert "form-carried-key-55" not in result.output
    shown = json.loads(json.loads(result.output)["payload"]["payload"])
    assert shown == {"action": "opened", "api_key": "[FILTERED]"}


def test_retry_queues_failed_jobs_again(environment):
    job = stored(environment, FAILED)
    result = run("jobs", "retry", "--all-failed")
    assert result.output == "1 job(s) queued again\n"
    again = environment.store.get(job.id)
    assert (again.state, again.tries) == ("queued", 0)
    assert environment.huey.pending_count() == 1
    assert run("jobs", "retry").exit_code == 2


def test_purge_drops_old_finished_jobs(environment):
    old, recent = stored(environment, DELIVERED, age=31 * 86400), stored(environment, DELIVERED)
    result = run("jobs", "purge", "--older-than", "30d")
    assert result.output == "1 job(s) purged\n"
    assert environment.store.get(old.id) is None
    assert environment.store.get(recent.id) is not None
    assert run("jobs", "purge", "--older-than", "soon").exit_code == 2


def test_config_check_prints_urls_without_secrets(environment):
    result = run("config", "check", "--base-url", "https://host.example.com/")
    assert result.exit_code == 0
    assert "https://host.example.com/aha/hooks?token=<secret>" in result.output
    assert SECRET not in result.output and TOKEN not in result.output


def test_config_check_names_a_missing_variable(environment, monkeypatch):
    monkeypatch.delenv("HOOKS_SECRET")
    result = run("config", "check")
    assert result.exit_code == 2
    assert "[integrations.hooks] secret: The environment variable HOOKS_SECRET" in result.output


@pytest.mark.parametrize(
    ("file", "what"), [("state.sqlite3", "state store"), ("queue.sqlite3", "queue")]
)
@pytest.mark.parametrize(
    "args",
    [
        ("jobs", "list"),
        ("jobs", "show", "nope"),
        ("jobs", "retry", "--all-failed"),
        ("jobs", "purge", "--older-than", "1s"),
    ],
)
def test_a_locked_file_ends_a_job_command_with_its_error(
    environment, monkeypatch, args, file, what
):
    """A store or queue that another process holds locked (a backup, a sqlite3 shell,
    a long write) is named, at the command's start or in its middle."""
    stored(environment, FAILED, age=10)
    monkeypatch.setenv("AHA_SERVICES_SQLITE_TIMEOUT", "0.1")
    holder = sqlite3.connect(environment.store.path.with_name(file), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run(*args)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    if file == "state.sqlite3" and args[1] in ("list", "show"):
        # A read waits for no writer in WAL mode: it sees the store as it was.
        assert result.exit_code == (0 if args[1] == "list" else 2)
        assert result.output.startswith("Error: no job nope" if args[1] == "show" else "")
        assert "database is locked" not in result.output
        return
    assert result.exit_code == 2
    assert result.output == f"Error: the {what} is unavailable: database is locked\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_retry_whose_queue_fails_after_the_jobs_were_saved_still_counts_them(
    environment, monkeypatch
):
    """The jobs are queued in the store before their integration is woken: a queue that
    fails then leaves them to a worker's sweep, as the intake does with a new job."""
    from host import engine as engine_module

    def failing_queue(huey):
        def enqueue(integration, eta=None):
            raise sqlite3.OperationalError("database is locked")

        return enqueue

    monkeypatch.setattr(engine_module, "enqueuer", failing_queue)
    job = stored(environment, FAILED)
    result = run("jobs", "retry", job.id)
    assert result.exit_code == 0, result.output
    assert result.output == "1 job(s) queued again\n"
    assert environment.store.get(job.id).state == "queued"


def test_a_worker_whose_store_is_down_at_start_ends_with_its_error(environment, monkeypatch):
    """A Redis that does not answer when a worker starts: its error and exit 2, as the
    job commands end, not a traceback, and not the URL's password."""
    import logging

    from spec.host.conftest import free_port

    # The command sets the process's logging up; this process's is left as it was.
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)
    monkeypatch.setattr(logging.getLogger("services"), "propagate", True)
    monkeypatch.setenv(
        "AHA_SERVICES_QUEUE", f"redis://:redis-pass-778899@127.0.0.1:{free_port()}/0"
    )
    result = run("worker", "--threads", "1")
    assert result.exit_code == 2
    assert result.output == "Error: the state store is unavailable: ConnectionError\n"
    assert "redis-pass-778899" not in result.output


@pytest.mark.parametrize(("flag", "level"), [(None, "INFO"), ("-q", "CRITICAL"), ("-v", "INFO")])
def test_a_quiet_worker_prints_no_lines_of_its_own(environment, monkeypatch, flag, level):
    """``-q`` prints nothing but fatal lines: the worker's start and stop lines and the
    queue's, too, not only the services'. The queue's line for every task it runs, by
    default, would be as many lines as bursts of events."""
    import logging

    from host import worker

    levels = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: levels.append(kwargs["level"]))
    monkeypatch.setattr(logging.getLogger("huey"), "level", logging.getLogger("huey").level)
    monkeypatch.setattr(logging.getLogger("services"), "propagate", True)
    monkeypatch.setattr(worker, "run_worker", lambda config, engine, threads: None)
    result = run(*([flag] if flag else []), "worker")
    assert result.exit_code == 0, result.output
    assert [logging.getLevelName(value) for value in levels] == [level]
    # The queue's own lines at the worker's level with -v and -q, its warnings by default.
    assert logging.getLogger("huey").level == (logging.WARNING if flag is None else logging.NOTSET)
