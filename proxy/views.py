"""The three endpoints Aha!'s Development Proxy integration calls; their shapes never drift."""

from __future__ import annotations

import json
from typing import NoReturn

from flask import Blueprint, Response, abort, current_app, jsonify, request

from proxy.event_request import (
    RequestError,
    answer_event,
    json_object,
    object_member,
    service_class,
    string_member,
)
from services.core.events import describe_exception, log_failure
from services.core.mash import frozen_mash, mash, to_plain
from services.core.recording import recording_collection
from services.core.redaction import Redactor
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
    try:
        body = json_object(request.get_data(cache=False) or b"")
        service = service_class(_registry(), body)
        field_name = string_member(body, "field_name")
        field = service.field_by_name(field_name)
        if field is None or field.remote_collection is None:
            raise RequestError(404, f"Unknown remote collection field: {field_name!r}")
        user_data = frozen_mash(object_member(body, "user_data"))
        meta_data = object_member(body, "meta_data")
    except RequestError as error:
        _refuse(error)
    redactor = Redactor(service.secret_values(user_data))
    with recording_collection(service, field_name, user_data, meta_data) as record:
        try:
            collection = field.remote_collection(mash(meta_data), user_data)
            record.answer = [list(to_plain(pair)) for pair in collection or []]
        except BaseException as error:  # a collection never takes the worker down
            log_failure(f"{service.service_name} remote collection {field_name}", error, redactor)
            record.answer = {"error": redactor(error)}
            record.answer["exception"] = describe_exception(error, redactor)
            record.status = 500
    return jsonify(record.answer), record.status
