"""The host's side of the console's jobs: counts per integration on both engines, and
``jobs retry --all-failed`` with its progress on a terminal and without it elsewhere."""

import pytest
from click.testing import CliRunner

from host.jobs import DELIVERED, FAILED, QUEUED, Job
from services.core.cli import main
from services.core.cli import progress as progress_module
from spec.host.test_host_cli import environment, stored  # noqa: F401  (the fixture)


def test_counts_per_integration_and_state_on_both_engines(engine):
    for integration, state in (("a", QUEUED), ("a", FAILED), ("a", FAILED), ("b", DELIVERED)):
        job = Job(integration, "create_feature", {})
        engine.store.add_job(job)
        job.state = state
        engine.store.save(job)
    assert engine.store.integration_counts() == {
        "a": {QUEUED: 1, FAILED: 2},
        "b": {DELIVERED: 1},
    }


def test_no_jobs_counts_nothing(engine):
    assert engine.store.integration_counts() == {}


def _retry_all(monkeypatch, terminal):
    monkeypatch.setattr(progress_module, "REDRAW", 0.0)
    monkeypatch.setattr(progress_module, "_is_terminal", lambda stream: terminal)
    return CliRunner().invoke(main, ["jobs", "retry", "--all-failed"])


@pytest.mark.parametrize("terminal", [True, False])
def test_retry_all_failed_shows_progress_only_on_a_terminal(environment, monkeypatch, terminal):  # noqa: F811
    jobs = [stored(environment, FAILED) for _ in range(3)]
    kept = stored(environment, DELIVERED)
    result = _retry_all(monkeypatch, terminal)
    assert result.exit_code == 0
    assert result.stdout == "3 job(s) queued again\n"
    if terminal:
        assert result.stderr == (
            "\rjobs queued again: 1/3\rjobs queued again: 2/3\rjobs queued again: 3/3"
            "\rjobs queued again: 3/3\n"
        )
    else:
        assert result.stderr == ""
    assert [environment.store.get(job.id).state for job in jobs] == [QUEUED] * 3
    assert environment.store.get(kept.id).state == DELIVERED
    assert environment.huey.pending_count() == 1  # one task for the integration
