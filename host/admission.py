"""What the intake's two ways in share: the shape of a usable event, storing an
admitted event as a job, and the answers when that fails, byte for byte."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from host.config import Integration
from host.engine import Engine
from host.jobs import Job

EVENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
FORM = "application/x-www-form-urlencoded"
_log = logging.getLogger("host.intake")


def _error_body(message: str) -> bytes:
    """``{"error": message}`` as Flask's ``jsonify`` writes it outside debug mode."""
    return (json.dumps({"error": message}, separators=(",", ":")) + "\n").encode()


UNAVAILABLE = _error_body("The event was not stored: the queue is unavailable")
INTERNAL = _error_body("The event was not stored: an internal error")


def accept(
    engine: Engine,
    integration: Integration,
    event: str,
    payload: dict[str, Any],
    headers: dict[str, str],
) -> bytes:
    """Store the event as a job (on the disk when this returns), queue its integration
    when nothing else will, and give the body of the ``202``."""
    job = Job(integration=integration.name, event=event, payload=payload, headers=headers)
    if engine.store.add_job(job):
        try:
            engine.enqueue(integration.name, None)
        except Exception as error:  # stored: a worker's sweep finds it
            _log.warning("job %s stored, not queued yet: %s", job.id, type(error).__name__)
    return json.dumps({"job": job.id}).encode()
