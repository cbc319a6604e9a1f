"""Handing the command line over to gunicorn: ``serve`` (the proxy) and ``host`` (the
integration host) each become a gunicorn arbiter, as their Procfile lines run it."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exec_gunicorn(config: str, app: str, port: int, host: str) -> NoReturn:
    """Replace this process with gunicorn serving ``app`` with the settings module
    ``config``, on ``host:port`` (the config reads ``PORT`` and ``HOST``)."""
    os.environ["PORT"], os.environ["HOST"] = str(port), host
    argv = [sys.executable, "-m", "gunicorn", "--config", f"python:{config}", app]
    os.execvp(argv[0], argv)
