"""Runs one event end to end and shapes the answer the development proxy returns."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

from services.core.errors import wire_class_name
from services.core.logger import EventLogger
from services.core.redaction import Redactor
from services.core.service import Service

_log = logging.getLogger("services.events")


def describe_exception(error: BaseException, redactor: Redactor) -> dict[str, Any]:
    """The wire's exception block: the class name Aha! knows, Ruby-style backtrace lines,
    secrets redacted."""
    frames = traceback.extract_tb(error.__traceback__)
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

    Nothing a service raises escapes: the caller (a proxy worker) keeps serving.
    The whole ``meta_data`` comes back, with whatever the service changed before
    it failed, so that nothing the service learned is lost.
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
) -> tuple[dict[str, Any], BaseException | None]:
    """``run_event``'s answer and the error the service raised, for a caller (the
    command line) that acts on the error's own class, not the name the wire reports."""
    logger = EventLogger(f"services.{service_class.service_name}")
    answer: dict[str, Any] = {"messages": logger.messages}
    service: Service | None = None
    raised: BaseException | None = None
    try:
        service = service_class(
            user_data, payload, meta_data, logger=logger, service_name=service_name
        )
        service.receive(event)
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as error:
        raised = error
        answer["exception"] = describe_exception(error, logger.redactor)
        trace = "".join(traceback.format_tb(error.__traceback__))
        _log.error(
            "%s",
            logger.redactor(
                f"Unhandled exception in {service_class.service_name} :{event}: "
                f"{type(error).__name__}: {error}\n{trace}"
            ),
        )
    answer["meta_data"] = service.meta_data_to_return() if service else dict(meta_data or {})
    return answer, raised
