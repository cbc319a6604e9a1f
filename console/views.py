"""The console's pages: services, events (live), one event, replay, send a fixture."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from console import pages, runner
from services.core import event_log
from services.core.registry import Registry, default_registry

blueprint = Blueprint("console", __name__)

# Host names a browser on this machine uses for the console; any other Host header is
# a page elsewhere that rebound a name of its own to 127.0.0.1.
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "[::1]"}
STREAM_POLL = 0.25
STREAM_KEEPALIVE = 15.0
# A stream ends after this long and the browser reconnects where it left off.
STREAM_LIFETIME = 300.0
EDITABLE = ("user_data", "payload", "meta_data")


def _registry() -> Registry:
    registry = current_app.extensions.get("aha_services_registry")
    if registry is None:
        registry = current_app.extensions["aha_services_registry"] = default_registry()
    return registry


def _root() -> Path:
    return Path(current_app.config["PROJECT_ROOT"])


def _log() -> event_log.EventLog | None:
    return event_log.current()


@blueprint.before_app_request
def only_this_machine() -> None:
    """Answer browsers on this machine only: a loopback Host, and forms from this origin."""
    host = request.host.lower()
    name = host.split("]")[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    if name not in LOOPBACK_NAMES:
        abort(403, description="The console answers on 127.0.0.1 only")
    if request.method == "POST":
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin and urlsplit(origin).netloc != request.host:
            abort(403, description="A form from another site cannot drive the console")


@blueprint.get("/")
def services_page() -> str:
    registry = _registry()
    views = [pages.service_view(service, _root()) for service in registry]
    return render_template("services.html", services=views, failures=registry.failures)


@blueprint.get("/events")
def events_page() -> str:
    log = _log()
    entries = log.recent(200) if log else []
    return render_template("events.html", entries=entries, log_on=log is not None)


@blueprint.get("/events/stream")
def event_stream() -> Response:
    """New entries as server-sent events, oldest first, from Last-Event-ID (or now)."""
    log = _log()
    last = request.headers.get("Last-Event-ID", request.args.get("after", ""))
    after = int(last) if last.isdigit() else None
    lifetime = float(current_app.config.get("STREAM_LIFETIME", STREAM_LIFETIME))

    def stream() -> Iterator[str]:
        start = after
        if start is None:
            newest = log.recent(1) if log else []
            start = newest[0]["id"] if newest else 0
        yield "retry: 1000\n\n"
        began = quiet = time.monotonic()
        while time.monotonic() - began < lifetime:
            for entry in reversed(log.recent(200, after=start) if log else []):
                start = entry["id"]
                quiet = time.monotonic()
                yield f"id: {entry['id']}\ndata: {json.dumps(entry)}\n\n"
            if time.monotonic() - quiet > STREAM_KEEPALIVE:
                quiet = time.monotonic()
                yield ": keep-alive\n\n"
            time.sleep(STREAM_POLL)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream(), mimetype="text/event-stream", headers=headers)


def _entry(entry_id: int) -> dict[str, Any]:
    log = _log()
    entry = log.get(entry_id) if log else None
    if entry is None:
        abort(404, description=f"No event {entry_id} in the log")
    return entry


@blueprint.get("/events/<int:entry_id>")
def event_page(entry_id: int) -> str:
    entry = _entry(entry_id)
    detail = entry["detail"]
    request_data = detail.get("request") or {}
    answer = detail.get("answer")
    after = answer.get("meta_data") if isinstance(answer, dict) else None
    return render_template(
        "event.html",
        entry=entry,
        request_data=request_data,
        answer=answer,
        outbound=detail.get("outbound") or [],
        diff=pages.meta_data_diff(request_data.get("meta_data"), after),
        editable={name: pages.pretty(request_data.get(name) or {}) for name in EDITABLE},
        pretty=pages.pretty,
        error=request.args.get("error", ""),
    )


@blueprint.post("/events/<int:entry_id>/replay")
def replay(entry_id: int) -> BaseResponse:
    entry = _entry(entry_id)
    if entry["kind"] != "send_event":
        abort(400, description="Only /send_event entries are replayed")
    edited: dict[str, Any] = {}
    for name in EDITABLE:
        try:
            value = json.loads(request.form.get(name) or "{}")
        except ValueError as error:
            return _back(entry_id, f"{name} is not JSON: {error}")
        if not isinstance(value, dict):
            return _back(entry_id, f"{name} must be a JSON object")
        edited[name] = value
    done = runner.replay(entry_id, edited, _root())
    if done.entry_id is None:
        return _back(entry_id, done.output or "The replay recorded nothing")
    return redirect(url_for("console.event_page", entry_id=done.entry_id), 303)


def _back(entry_id: int, error: str) -> BaseResponse:
    return redirect(url_for("console.event_page", entry_id=entry_id, error=error[-2000:]), 303)


@blueprint.get("/send")
def send_page() -> str:
    return render_template(
        "send.html",
        services=list(_registry()),
        fixtures=pages.fixture_names(_root()),
        error=request.args.get("error", ""),
    )


@blueprint.post("/send")
def send_fixture() -> BaseResponse:
    service = request.form.get("service", "")
    event = request.form.get("event", "").strip()
    fixture = pages.fixture_path(_root(), request.form.get("fixture", ""))
    try:
        user_data = json.loads(request.form.get("user_data") or "{}")
    except ValueError as error:
        return redirect(url_for("console.send_page", error=f"user_data is not JSON: {error}"), 303)
    if _registry().get(service) is None or not event or fixture is None:
        return redirect(url_for("console.send_page", error="Choose a service, event, fixture"), 303)
    done = runner.send(service, event, user_data, fixture, _root())
    if done.entry_id is None:
        return redirect(url_for("console.send_page", error=done.output or "Nothing recorded"), 303)
    return redirect(url_for("console.event_page", entry_id=done.entry_id), 303)
