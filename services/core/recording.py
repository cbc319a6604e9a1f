"""Runs an event (or a remote collection) and records it in the event log when it is on.

The proxy's views and the command line's replays call these in place of
``run_event``: when the log is off they cost one setting lookup; when it is on,
the entry is handed to the log's writer thread, which redacts and stores it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.core import event_log, outbound_capture
from services.core.events import run_event
from services.core.service import Service


def outcome_of(service_class: type[Service], event: str, answer: Mapping[str, Any]) -> str:
    """``ok``, ``ignored`` (the service has no handler) or ``failed: <class>``."""
    exception = answer.get("exception")
    if exception:
        return f"failed: {exception.get('exception_class', 'Exception')}"
    return "ok" if event in _handled_events(service_class) else "ignored"


_handled: dict[type[Service], frozenset[str]] = {}


def _handled_events(service_class: type[Service]) -> frozenset[str]:
    """A class's events, looked up once per worker: the lookup reads every attribute."""
    events = _handled.get(service_class)
    if events is None:
        events = _handled[service_class] = frozenset(service_class.responds_to_events())
    return events


def secrets_of(
    service_class: type[Service], user_data: Mapping[str, Any], meta_data: Mapping[str, Any]
) -> list[Any]:
    """The values the entry must not show: secret settings and secret ``meta_data``."""
    secrets = list(service_class.secret_values(user_data))
    secrets += [meta_data.get(name) for name in service_class.secret_meta_data]
    return secrets


def run_recorded(
    service_class: type[Service],
    event: str,
    *,
    user_data: Mapping[str, Any],
    payload: Mapping[str, Any],
    meta_data: Mapping[str, Any],
    service_name: str | None = None,
    log: event_log.EventLog | None = None,
    replay_of: int | None = None,
) -> tuple[dict[str, Any], event_log.Entry | None]:
    """``run_event``'s answer, and the entry recorded for it (None when the log is off).

    Without ``log``, the entry is queued for this process's event log (the proxy);
    a caller that gives ``log`` stores the entry itself (``write_now``) to learn its id.
    """

    def run() -> dict[str, Any]:
        return run_event(
            service_class,
            event,
            user_data=user_data,
            payload=payload,
            meta_data=meta_data,
            service_name=service_name,
        )

    queued = log is None
    log = log or event_log.current()
    if log is None:
        return run(), None
    started = time.perf_counter()
    with outbound_capture.capturing() as outbound:
        answer = run()
    after = answer.get("meta_data") or {}
    entry = event_log.Entry(
        kind="send_event",
        service=service_class.service_name,
        event=event,
        outcome=outcome_of(service_class, event, answer),
        duration=time.perf_counter() - started,
        detail={
            "service_name_as": service_name,
            "request": {"user_data": user_data, "payload": payload, "meta_data": meta_data},
            "answer": answer,
            "outbound": outbound,
        },
        secrets=secrets_of(service_class, user_data, meta_data)
        + secrets_of(service_class, {}, after),
        replay_of=replay_of,
    )
    if queued:
        log.record(entry)
    return answer, entry


class CollectionRecord:
    """What a remote collection answered, set by the view before it returns."""

    def __init__(self) -> None:
        self.answer: Any = None
        self.status = 200


@contextmanager
def recording_collection(
    service_class: type[Service],
    field_name: str,
    user_data: Mapping[str, Any],
    meta_data: Mapping[str, Any],
) -> Iterator[CollectionRecord]:
    """Record a ``/remote_collection`` request with the answer the view sets."""
    record = CollectionRecord()
    log = event_log.current()
    if log is None:
        yield record
        return
    started = time.perf_counter()
    with outbound_capture.capturing() as outbound:
        yield record
    failed = record.status >= 400
    outcome = "ok"
    if failed and isinstance(record.answer, dict):
        outcome = f"failed: {record.answer.get('exception', {}).get('exception_class', 'Error')}"
    log.record(
        event_log.Entry(
            kind="remote_collection",
            service=service_class.service_name,
            event=field_name,
            outcome=outcome,
            duration=time.perf_counter() - started,
            detail={
                "request": {"user_data": user_data, "meta_data": meta_data},
                "answer": record.answer,
                "outbound": outbound,
            },
            secrets=secrets_of(service_class, user_data, meta_data),
        )
    )
