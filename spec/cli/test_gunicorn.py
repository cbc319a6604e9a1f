"""``serve`` and ``host`` become gunicorn, with their settings module and address."""

import os
import sys

from services.core.cli import gunicorn


def test_the_command_line_is_replaced_by_gunicorn(monkeypatch):
    calls = []
    monkeypatch.setattr(gunicorn.os, "execvp", lambda path, argv: calls.append((path, argv)))
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    gunicorn.exec_gunicorn("host.gunicorn_conf", "host.wsgi:app", 4580, "0.0.0.0")
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:host.gunicorn_conf"]
    assert calls == [(sys.executable, [*argv, "host.wsgi:app"])]
    assert (os.environ["PORT"], os.environ["HOST"]) == ("4580", "0.0.0.0")
