"""The intake: takes Aha! and third-party webhooks, stores each as a job, answers 202.

Nothing is acknowledged before it is stored, and a refused request stores nothing.
Every answer is JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from flask import Flask, Response, abort, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException

from host.admission import EVENT, FORM, INTERNAL, UNAVAILABLE, accept
from host.auth import TOKEN_HEADER, TOKEN_PARAMETER, signature_matches, token_matches
from host.config import HostConfig, Integration
from host.engine import Engine
from host.fast_intake import IntakeFastPath
from host.headers import kept_headers
from host.metrics import render
from host.refusals import RefusalCounter
from host.state import StoreUnavailable
from services.core import strict_json

UNKNOWN = "(unknown)"
_log = logging.getLogger("host.intake")


class Refused(HTTPException):
    """A refusal, counted under its outcome."""

    def __init__(self, code: int, message: str, outcome: str):
        super().__init__(message)
        self.code, self.outcome = code, outcome


def create_app(config: HostConfig, engine: Engine) -> Flask:
    app = Flask("host")
    app.extensions["aha_services_host"] = (config, engine)
    refusals = RefusalCounter(engine.store)

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(error=error.description), error.code or 500

    @app.errorhandler(StoreUnavailable)
    def unavailable(error: StoreUnavailable) -> tuple[Response, int]:
        _log.error("%s", error)
        return Response(UNAVAILABLE, mimetype="application/json"), 503

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response, int]:
        _log.exception("intake failed")
        return Response(INTERNAL, mimetype="application/json"), 500

    @app.post("/aha/<name>")
    def aha_event(name: str) -> tuple[Response, int]:
        integration, body = _admitted(config, engine, name, signed=False)
        document = _json_object(body)
        event = document.get("event")
        if not isinstance(event, str) or not EVENT.fullmatch(event):
            _refuse(400, "The body has no usable event name", "bad_request")
        return _accept(engine, integration, event, document)

    @app.post("/webhooks/<name>")
    def webhook(name: str) -> tuple[Response, int]:
        integration, body = _admitted(config, engine, name, signed=True)
        if request.mimetype == FORM:
            fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            payload: dict[str, Any] = dict(fields)
        else:
            payload = _json_object(body) if body.strip() else {}
        return _accept(engine, integration, "webhook", payload)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            engine.ping()
        except StoreUnavailable as error:
            return jsonify(status="unavailable", error=str(error)), 503
        return jsonify(status="ok"), 200

    @app.get("/metrics")
    def metrics() -> Response:
        refusals.flush()
        return Response(render(engine.store), mimetype=CONTENT_TYPE_LATEST)

    @app.after_request
    def count_refusals(response: Response) -> Response:
        outcome = getattr(request, "refusal", None)
        if outcome:
            refusals.add(*outcome)
        return response

    app.wsgi_app = IntakeFastPath(app.wsgi_app, config, engine)  # type: ignore[method-assign]
    return app


def _refuse(code: int, message: str, outcome: str) -> NoReturn:
    request.refusal = (getattr(request, "integration_name", UNKNOWN), outcome)  # type: ignore[attr-defined]
    abort(code, description=message)


def _admitted(
    config: HostConfig, engine: Engine, name: str, signed: bool
) -> tuple[Integration, bytes]:
    """The integration and the body, once the sender is known and the body fits."""
    integration = config.integrations.get(name)
    if integration is None:
        _refuse(404, "Unknown integration", "unknown_integration")
    request.integration_name = name  # type: ignore[attr-defined]
    length = request.content_length
    if length is not None and length > config.max_body:
        _refuse(413, f"The body is larger than {config.max_body} bytes", "too_large")
    body = request.stream.read(config.max_body + 1)
    if len(body) > config.max_body:
        _refuse(413, f"The body is larger than {config.max_body} bytes", "too_large")
    given = request.headers.get(TOKEN_HEADER) or request.args.get(TOKEN_PARAMETER)
    if not token_matches(integration, given) and not (
        signed and signature_matches(integration, _lower_case(request.headers), body)
    ):
        _refuse(401, "Missing or wrong intake secret", "unauthorized")
    return integration, body


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = strict_json.loads(body)
    except (ValueError, RecursionError):
        _refuse(400, "The body is not valid JSON", "bad_request")
    if not isinstance(document, dict):
        _refuse(400, "The body must be a JSON object", "bad_request")
    return document


def _accept(
    engine: Engine, integration: Integration, event: str, payload: dict[str, Any]
) -> tuple[Response, int]:
    headers = kept_headers(integration.service_class, request.environ)
    body = accept(engine, integration, event, payload, headers)
    return Response(body, mimetype="application/json"), 202


def _lower_case(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}
