"""``/send_event`` with the console's event log on (the default) against the log off.

The proxy already measured against the bare app runs with the log on; here a second
proxy from the same clone, with ``AHA_SERVICES_EVENT_LOG=0``, is measured beside it,
in turn, with the same clients and the same small ignored event.
"""

from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from bench.load import requests_per_second
from bench.report import Row
from bench.servers import PROXY, Server, running
from bench.workload import IGNORED_EVENT_BODY, post_request

LOG_OFF = {"AHA_SERVICES_EVENT_LOG": "0", "CONSOLE_PORT": "0"}


def _recorded(clone: Path) -> int:
    """The newest entry's id in the clone's event log (ids keep counting when old
    entries are dropped): proof that the log-on proxy recorded."""
    path = clone / "var" / "events.sqlite3"
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])


def event_log_rows(
    log_on: Server,
    clone: Path,
    work_dir: Path,
    env: dict[str, str],
    concurrency: tuple[int, ...],
    repeats: int,
    seconds: float,
) -> tuple[list[Row], list[str]]:
    """One row per concurrency: requests/s with the log off and on; a note that the
    log recorded."""
    rows = []
    before = _recorded(clone)
    with running(PROXY, clone, work_dir, {**env, **LOG_OFF}) as (log_off, _, _):
        for clients in concurrency:
            rates: dict[str, list[float]] = {"off": [], "on": []}
            for repeat in range(repeats):
                pair = (("off", log_off), ("on", log_on))
                for name, server in pair if repeat % 2 == 0 else pair[::-1]:
                    request = post_request("/send_event", IGNORED_EVENT_BODY, server.port)
                    rates[name].append(requests_per_second(server.port, request, clients, seconds))
                print(
                    f"event log x{clients} {repeat + 1}/{repeats}: "
                    f"off {rates['off'][-1]:.0f}/s, on {rates['on'][-1]:.0f}/s",
                    file=sys.stderr,
                    flush=True,
                )
            rows.append(
                Row(
                    f"log on/off x{clients}",
                    "/s",
                    rates["off"],
                    rates["on"],
                    "ratio >= 0.9",
                    lowest_ratio=0.9,
                    names=("off ", "on   "),
                )
            )
    notes = [
        f"  the send_event rows ran with the event log on; it recorded "
        f"{_recorded(clone) - before} events during the log on/off rows"
    ]
    return rows, notes
