"""The host's jobs (the host's console only): queue depth, jobs by state and integration,
a job's attempts, and a button that queues a failed job again.

The jobs come through ``services.core.jobs``: the console never reads the host's
modules, and what a ``JobSource`` returns is already redacted.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from console import pages
from services.core.jobs import (
    STATES,
    JobDetail,
    JobRow,
    JobSource,
    JobsOverview,
    JobsUnavailable,
)

blueprint = Blueprint("jobs", __name__)
SOURCE_KEY = "aha_services_jobs"
LIST_LIMIT = 100


class UnavailableJobs:
    """The source of a host console whose host could not be opened: every page says why."""

    def __init__(self, reason: str):
        self.reason = reason

    def overview(self) -> JobsOverview:
        raise JobsUnavailable(self.reason)

    def jobs(self, state: str | None, integration: str | None, limit: int) -> list[JobRow]:
        raise JobsUnavailable(self.reason)

    def job(self, job_id: str) -> JobDetail | None:
        raise JobsUnavailable(self.reason)

    def retry(self, job_id: str) -> bool:
        raise JobsUnavailable(self.reason)


def _source() -> JobSource:
    source: JobSource = current_app.extensions[SOURCE_KEY]
    return source


@blueprint.app_errorhandler(JobsUnavailable)
def unavailable(error: JobsUnavailable) -> tuple[str, int]:
    return render_template("jobs_unavailable.html", error=str(error)), 503


@blueprint.get("/jobs")
def jobs_page() -> str:
    state = request.args.get("state") or None
    integration = request.args.get("integration") or None
    if state is not None and state not in STATES:
        abort(400, description=f"state: one of {', '.join(STATES)}")
    source = _source()
    return render_template(
        "jobs.html",
        overview=source.overview(),
        jobs=source.jobs(state, integration, LIST_LIMIT),
        states=STATES,
        state=state,
        integration=integration,
        notice=request.args.get("notice", ""),
    )


@blueprint.get("/jobs/<job_id>")
def job_page(job_id: str) -> str:
    job = _source().job(job_id)
    if job is None:
        abort(404, description=f"No job {job_id}")
    return render_template(
        "job.html", job=job, pretty=pages.pretty, notice=request.args.get("notice", "")
    )


@blueprint.post("/jobs/<job_id>/retry")
def retry(job_id: str) -> BaseResponse:
    done = _source().retry(job_id)
    notice = "Queued again" if done else "Only a failed job is queued again"
    return redirect(url_for("jobs.job_page", job_id=job_id, notice=notice), 303)
