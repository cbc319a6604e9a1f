"""Replays and fixture sends run in a fresh ``aha-services`` process: the code as it is now.

The console imports services only to list them; what runs an event is a new process
of the command line, which records the result in the event log and names its id.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_LIMIT = 660.0
_RECORDED = re.compile(r"Recorded as event (\d+)")


@dataclass(frozen=True)
class Run:
    """What the command line did: the new entry's id (None when nothing was recorded)."""

    entry_id: int | None
    output: str


def _command(args: list[str], stdin: str, cwd: Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "services.core.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        cwd=cwd,
        check=False,
    )
    found = _RECORDED.search(done.stderr)
    return Run(int(found[1]) if found else None, done.stderr.strip())


def replay(entry_id: int, request: dict[str, Any], cwd: Path) -> Run:
    """Run recorded event ``entry_id`` again with ``request``'s members in place of its own."""
    return _command(["replay", str(entry_id), "--request", "-"], json.dumps(request), cwd)


def send(service: str, event: str, user_data: dict[str, Any], payload: Path, cwd: Path) -> Run:
    """Send the fixture at ``payload`` to ``service`` as ``event``, recorded."""
    args = ["send", service, event, "--payload", f"@{payload}", "--data", "-", "--record"]
    return _command(args, json.dumps(user_data), cwd)
