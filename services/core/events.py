"""Runs one event end to end and shapes the answer the development proxy returns."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from services.core.errors import AhaServiceError, wire_class_name
from services.core.logger import EventLogger
from services.core.redaction import Redactor
from services.core.sendable import sendable
from services.core.service import Service
from services.core.timing import Abandoned

_log = logging.getLogger("services.events")


def describe_exception(error: BaseException, redactor: Redactor) -> dict[str, Any]:
    """The wire's exception block: the class name Aha! knows, Ruby-style backtrace lines,
    secrets redacted."""
    # File, line and name are all a backtrace line shows: no source file is read (and
    # kept in linecache for the life of the worker).
    frames = traceback.StackSummary.extract(
        traceback.walk_tb(error.__traceback__), lookup_lines=False
    )
    return {
        "exception_class": wire_class_name(error),
        "message": redactor(error),
        "backtrace": [redactor(f"{f.filename}:{f.lineno}:in `{f.name}'") for f in reversed(frames)],
    }


def run_event(
    service_class: type[Service],
    event: str,
    *,
    user_data: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    meta_data: Mapping[str, Any] | None = None,
    service_name: str | None = None,
) -> dict[str, Any]:
    """``{"messages", "meta_data"}`` and, when the service raised, ``"exception"``.

    Nothing a service raises escapes, ``KeyboardInterrupt`` and ``SystemExit``
    included: the caller (a proxy worker) keeps serving. The whole ``meta_data``
    comes back, with whatever the service changed before it failed, so that
    nothing the service learned is lost; a value JSON cannot hold is left out and
    named in the answer's exception.
    """
    return handle_event(
        service_class,
        event,
        user_data=user_data,
        payload=payload,
        meta_data=meta_data,
        service_name=service_name,
    )[0]


def handle_event(
    service_class: type[Service],
    event: str,
    *,
    user_data: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    meta_data: Mapping[str, Any] | None = None,
    service_name: str | None = None,
    request_headers: Mapping[str, str] | None = None,
    logger: EventLogger | None = None,
) -> tuple[dict[str, Any], BaseException | None]:
    """``run_event``'s answer and the error the service raised, for a caller (the
    command line, the host's worker) that acts on the error's own class, not the name the
    wire reports. ``request_headers`` are the webhook's, for a service that reads them;
    ``logger``, the caller's own when it reads the messages while the event runs."""
    logger = logger or event_logger(service_class)
    answer: dict[str, Any] = {"messages": logger.messages}
    service: Service | None = None
    raised: BaseException | None = None
    try:
        # An event the service ignores is answered without building the service; a
        # webhook's headers may hold secrets, which only the service knows to redact.
        if not request_headers and service_class.ignores(event):
            for secret in service_class.event_secrets(user_data or {}, meta_data or {}):
                logger.redactor.add(secret)
            logger.info(service_class.ignoring_message(str(event or "")))
        else:
            service = service_class(
                user_data,
                payload,
                meta_data,
                logger=logger,
                service_name=service_name,
                request_headers=request_headers,
            )
            service.receive(event)
    except Abandoned:
        raise  # a watched event given up: its answer is nobody's
    except BaseException as error:
        raised = error
        note_failure(answer, f"{service_class.service_name} :{event}", error, logger.redactor)
    answer["meta_data"] = _meta_data_to_send(service, meta_data, logger, answer)
    return answer, raised


def event_logger(service_class: type[Service]) -> EventLogger:
    return EventLogger(f"services.{service_class.service_name}")


def note_failure(
    answer: dict[str, Any], what: str, error: BaseException, redactor: Redactor
) -> None:
    """The answer's exception block, and the failure's line in the log."""
    answer["exception"] = describe_exception(error, redactor)
    log_failure(what, error, redactor)


def log_failure(what: str, error: BaseException, redactor: Redactor) -> None:
    """One line for an ``AhaServiceError``; the line and the traceback for anything else."""
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, AhaServiceError):
        _log.error("%s", redactor(f"{what} failed: {detail}"))
        return
    trace = redactor("".join(traceback.format_exception(error)))
    _log.error("%s", redactor(f"Unhandled exception in {what}: {detail}"), extra={"details": trace})


def _meta_data_to_send(
    service: Service | None,
    given: Mapping[str, Any] | None,
    logger: EventLogger,
    answer: dict[str, Any],
) -> dict[str, Any]:
    try:
        returned = service.meta_data_to_return() if service else dict(given or {})
    except Exception as error:  # a value that holds itself, for one
        logger.error(f"meta_data could not be read back ({type(error).__name__}): sent as received")
        return dict(given or {})
    meta_data, problems = sendable(returned)
    if problems:
        text = "meta_data was sent without what JSON cannot hold: " + "; ".join(problems)
        logger.error(text)
        answer.setdefault("exception", describe_exception(TypeError(text), logger.redactor))
    return meta_data
