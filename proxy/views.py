"""The three endpoints Aha!'s Development Proxy integration calls; their shapes never drift."""

from __future__ import annotations

import json
from typing import NoReturn

from flask import Blueprint, Response, abort, current_app, jsonify, request

from proxy.event_request import RequestError, answer_collection, answer_event
from services.core.registry import Registry

blueprint = Blueprint("proxy", __name__)


def _registry() -> Registry:
    return current_app.extensions["aha_services_registry"]


def _refuse(error: RequestError) -> NoReturn:
    abort(error.status, description=error.message)


@blueprint.get("/configuration")
def configuration() -> Response:
    cached = current_app.extensions.get("aha_services_configuration")
    if cached is None:
        cached = json.dumps(_registry().configuration())
        current_app.extensions["aha_services_configuration"] = cached
    return current_app.response_class(cached, mimetype="application/json")


@blueprint.post("/send_event")
def send_event() -> Response:
    """A request the fast path (proxy/fast_path.py) passed over: most often a refusal."""
    try:
        answer = answer_event(_registry(), request.get_data(cache=False) or b"")
    except RequestError as error:
        _refuse(error)
    return jsonify(answer)


@blueprint.post("/remote_collection")
def remote_collection() -> tuple[Response, int]:
    """A request the fast path passed over: most often a refusal."""
    try:
        answer, status = answer_collection(_registry(), request.get_data(cache=False) or b"")
    except RequestError as error:
        _refuse(error)
    return jsonify(answer), status
