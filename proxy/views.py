"""The three endpoints Aha!'s Development Proxy integration calls; their shapes never drift."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from services.core.events import describe_exception, log_failure, run_event
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


# Deeper than any request Aha! sends; deeper documents are refused before anything
# (a mash, the answer's JSON) walks them recursively.
MAX_NESTING = 64


def _json_object() -> dict[str, Any]:
    data = request.get_data(cache=False) or b""
    try:
        body = json.loads(data, parse_constant=_no_constant)
    except ValueError as error:
        abort(400, description=f"Malformed JSON in the request body: {error}")
    except RecursionError:
        abort(400, description=f"The request body is nested deeper than {MAX_NESTING} levels")
    if not isinstance(body, dict):
        abort(400, description="The request body must be a JSON object")
    # Only a document with that many brackets can be that deep; most have far fewer.
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _depth(body) > MAX_NESTING:
        abort(400, description=f"The request body is nested deeper than {MAX_NESTING} levels")
    return body


def _no_constant(name: str) -> Any:
    """Python reads NaN and Infinity, which JSON does not have; Aha! never sends them."""
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deeply ``value`` nests objects and arrays, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _object_member(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        abort(400, description=f"{name} must be a JSON object, not {_json_type(value)}")
    return value


def _string_member(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        shown = "missing" if value is None else _json_type(value)
        abort(400, description=f"{name} must be a non-empty string, not {shown}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def _service_class(body: dict[str, Any]) -> type[Service]:
    name = _string_member(body, "service_name")
    service_class = _registry().get(name)
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
    event = _string_member(body, "event")
    user_data = _object_member(body, "user_data")
    payload = _object_member(body, "payload")
    meta_data = _object_member(body, "meta_data")
    answer = run_event(
        service_class,
        event,
        user_data=user_data,
        payload=payload,
        meta_data=meta_data,
        service_name=PROXY_SERVICE_NAME,
    )
    return jsonify(answer)


@blueprint.post("/remote_collection")
def remote_collection() -> Response | tuple[Response, int]:
    body = _json_object()
    service_class = _service_class(body)
    field_name = _string_member(body, "field_name")
    field = service_class.field_by_name(field_name)
    if field is None or field.remote_collection is None:
        abort(404, description=f"Unknown remote collection field: {field_name!r}")
    user_data = frozen_mash(_object_member(body, "user_data"))
    meta_data = _object_member(body, "meta_data")
    redactor = Redactor(service_class.secret_values(user_data))
    try:
        collection = field.remote_collection(mash(meta_data), user_data)
        return jsonify([list(to_plain(pair)) for pair in collection or []])
    except BaseException as error:  # a collection never takes the worker down
        log_failure(f"{service_class.service_name} remote collection {field_name}", error, redactor)
        return jsonify(error=redactor(error), exception=describe_exception(error, redactor)), 500
