"""The three endpoints Aha!'s Development Proxy integration calls; their shapes never drift."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from services.core.events import describe_exception, run_event
from services.core.mash import frozen_mash, mash, to_plain
from services.core.redaction import Redactor
from services.core.registry import Registry
from services.core.service import Service

blueprint = Blueprint("proxy", __name__)

# While the proxy handles an event, the service stands in for the Development Proxy
# integration, so integration fields land on the integration that sent the event.
PROXY_SERVICE_NAME = "development_proxy"


def _registry() -> Registry:
    return current_app.extensions["aha_services_registry"]


def _json_object() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=False) or b"")
    except ValueError as error:
        abort(400, description=f"Malformed JSON in the request body: {error}")
    if not isinstance(body, dict):
        abort(400, description="The request body must be a JSON object")
    return body


def _object_member(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        abort(400, description=f"{name} must be a JSON object")
    return value


def _service_class(body: dict[str, Any]) -> type[Service]:
    name = body.get("service_name")
    service_class = _registry().get(name) if isinstance(name, str) else None
    if service_class is None:
        abort(404, description=f"Unknown service: {name!r}")
    return service_class


@blueprint.get("/configuration")
def configuration() -> Response:
    cached = current_app.extensions.get("aha_services_configuration")
    if cached is None:
        cached = json.dumps(_registry().configuration())
        current_app.extensions["aha_services_configuration"] = cached
    return current_app.response_class(cached, mimetype="application/json")


@blueprint.post("/send_event")
def send_event() -> Response:
    body = _json_object()
    service_class = _service_class(body)
    event = body.get("event")
    if not isinstance(event, str) or not event:
        abort(400, description="event must be a non-empty string")
    answer = run_event(
        service_class,
        event,
        user_data=_object_member(body, "user_data"),
        payload=_object_member(body, "payload"),
        meta_data=_object_member(body, "meta_data"),
        service_name=PROXY_SERVICE_NAME,
    )
    return jsonify(answer)


@blueprint.post("/remote_collection")
def remote_collection() -> Response | tuple[Response, int]:
    body = _json_object()
    service_class = _service_class(body)
    field = service_class.field_by_name(str(body.get("field_name")))
    if field is None or field.remote_collection is None:
        abort(404, description=f"Unknown remote collection field: {body.get('field_name')!r}")
    user_data = frozen_mash(_object_member(body, "user_data"))
    redactor = Redactor(service_class.secret_values(user_data))
    try:
        collection = field.remote_collection(mash(_object_member(body, "meta_data")), user_data)
        return jsonify([list(to_plain(pair)) for pair in collection or []])
    except Exception as error:
        return jsonify(error=redactor(error), exception=describe_exception(error, redactor)), 500
