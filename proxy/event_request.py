"""The proxy's JSON requests read and answered: shared by the Flask views and the fast path.

Every refusal is a ``RequestError`` with the status and the message the answer carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.core import strict_json
from services.core.events import describe_exception, log_failure
from services.core.mash import frozen_mash, mash, to_plain
from services.core.recording import recording_collection, run_recorded
from services.core.redaction import Redactor
from services.core.registry import Registry
from services.core.sendable import sendable
from services.core.service import Service

# While the proxy handles an event, the service stands in for the Development Proxy
# integration, so integration fields land on the integration that sent the event.
PROXY_SERVICE_NAME = "development_proxy"

# Deeper than any request Aha! sends; deeper documents are refused before anything
# (a mash, the answer's JSON) walks them recursively.
MAX_NESTING = 64


class RequestError(Exception):
    """A request the proxy refuses: answered ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def json_object(data: bytes) -> dict[str, Any]:
    """The request body as a JSON object, parsed once."""
    try:
        body = strict_json.loads(data)
    except ValueError as error:
        raise RequestError(400, f"Malformed JSON in the request body: {error}") from None
    except RecursionError:
        raise RequestError(400, _TOO_DEEP) from None
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object")
    # Only a document with that many brackets can be that deep; most have far fewer.
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and _depth(body) > MAX_NESTING:
        raise RequestError(400, _TOO_DEEP)
    return body


_TOO_DEEP = f"The request body is nested deeper than {MAX_NESTING} levels"


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


def object_member(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestError(400, f"{name} must be a JSON object, not {_json_type(value)}")
    return value


def string_member(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        shown = "missing" if value is None else _json_type(value)
        raise RequestError(400, f"{name} must be a non-empty string, not {shown}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def service_class(registry: Registry, body: dict[str, Any]) -> type[Service]:
    name = string_member(body, "service_name")
    found = registry.get(name)
    if found is None:
        failure = registry.failure_for(name)
        why = f" ({failure.source} could not load: {failure.message})" if failure else ""
        raise RequestError(404, f"Unknown service: {name!r}{why}")
    return found


def answer_event(registry: Registry, data: bytes) -> dict[str, Any]:
    """The answer to a ``/send_event`` request body: the event run by its service (and
    recorded in the event log when it is on)."""
    body = json_object(data)
    handler = service_class(registry, body)
    event = string_member(body, "event")
    user_data = object_member(body, "user_data")
    payload = object_member(body, "payload")
    meta_data = object_member(body, "meta_data")
    answer, _ = run_recorded(
        handler,
        event,
        user_data=user_data,
        payload=payload,
        meta_data=meta_data,
        service_name=PROXY_SERVICE_NAME,
    )
    return answer


def answer_collection(registry: Registry, data: bytes) -> tuple[Any, int]:
    """The answer to a ``/remote_collection`` request body and its status: the choices
    the service's field offers (200), or the failure it raised (500); recorded in the
    event log when it is on."""
    body = json_object(data)
    service = service_class(registry, body)
    field_name = string_member(body, "field_name")
    field = service.field_by_name(field_name)
    if field is None or field.remote_collection is None:
        raise RequestError(404, f"Unknown remote collection field: {field_name!r}")
    user_data = frozen_mash(object_member(body, "user_data"))
    meta_data = object_member(body, "meta_data")
    redactor = Redactor(service.event_secrets(user_data, meta_data))
    with recording_collection(service, field_name, user_data, meta_data) as record:
        try:
            collection = field.remote_collection(mash(meta_data), user_data)
            record.answer = collection_pairs(collection)
        except BaseException as error:  # a collection never takes the worker down
            log_failure(f"{service.service_name} remote collection {field_name}", error, redactor)
            record.answer = {"error": redactor(error)}
            record.answer["exception"] = describe_exception(error, redactor)
            record.status = 500
    return record.answer, record.status


def collection_pairs(collection: Any) -> list[list[Any]]:
    """A remote collection's ``[label, value]`` pairs as plain JSON data; a TypeError
    naming what the wire cannot carry (a pair that is not two items, a date), so that a
    collection fails alike whoever answers it, never with a value some encoder guessed."""
    if isinstance(collection, str | bytes | Mapping):
        kind = type(collection).__name__
        raise TypeError(f"A remote collection is a list of pairs, not a {kind}")
    pairs = []
    for pair in collection or []:
        plain = to_plain(pair)
        if not isinstance(plain, list | tuple) or len(plain) != 2:
            sized = isinstance(plain, list | tuple)
            shown = f"{len(plain)} items" if sized else type(plain).__name__
            raise TypeError(f"A remote collection's item is a [label, value] pair, not {shown}")
        pairs.append(list(plain))
    clean, problems = sendable({"items": pairs}, name="collection")
    if problems:
        raise TypeError("The remote collection holds what JSON cannot: " + "; ".join(problems))
    return clean["items"]
