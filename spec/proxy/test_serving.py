"""The modules gunicorn loads for ``make serve``: its settings and the WSGI app."""

import importlib
import sys

import pytest
from flask import Flask

SERVING_VARIABLES = (
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "PROXY_THREADS",
    "AHA_SERVICES_RELOAD",
    "AHA_SERVICES_ACCESS_LOG",
)


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **environment: str):
    for name in SERVING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "proxy.gunicorn_conf", raising=False)
    return importlib.import_module("proxy.gunicorn_conf")


def test_gunicorn_serves_on_loopback_with_workers_threads_and_the_reloader(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings.bind == "127.0.0.1:4567"
    assert (settings.workers, settings.threads) == (2, 4)
    assert settings.reload is True
    assert settings.accesslog is None
    # An event may take 310 s; the worker outlives it.
    assert settings.timeout > 310
    assert settings.control_socket_disable is True


def test_gunicorn_settings_follow_the_environment(monkeypatch):
    settings = gunicorn_settings(
        monkeypatch,
        HOST="0.0.0.0",
        PORT="9000",
        WEB_CONCURRENCY="3",
        PROXY_THREADS="8",
        AHA_SERVICES_RELOAD="0",
        AHA_SERVICES_ACCESS_LOG="1",
    )
    assert settings.bind == "0.0.0.0:9000"
    assert (settings.workers, settings.threads) == (3, 8)
    assert settings.reload is False
    assert settings.accesslog == "-"


def test_the_wsgi_module_serves_the_proxy_with_every_service(monkeypatch):
    monkeypatch.delitem(sys.modules, "proxy.wsgi", raising=False)
    app = importlib.import_module("proxy.wsgi").app
    assert isinstance(app, Flask)
    answer = app.test_client().get("/configuration")
    assert answer.status_code == 200
    names = {service["service_name"] for service in answer.get_json()["services"]}
    assert {"webhooks", "slack", "redmine"} <= names
