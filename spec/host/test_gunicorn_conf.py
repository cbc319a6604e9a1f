"""The intake's gunicorn settings, as gunicorn reads them."""

import importlib


def test_the_intake_leaves_gunicorn_s_shared_control_socket_alone(monkeypatch):
    monkeypatch.setenv("PORT", "4599")
    monkeypatch.delenv("HOST", raising=False)
    conf = importlib.reload(importlib.import_module("host.gunicorn_conf"))
    assert conf.control_socket_disable is True
    assert conf.bind == "127.0.0.1:4599"
