"""``python -m console``: its port setting, its parent, and a port already taken."""

import os
import socket

import pytest

import console.__main__ as serve


def test_the_port_defaults_to_4568_and_zero_is_off(monkeypatch):
    assert serve.port_setting() == 4568
    monkeypatch.setenv("CONSOLE_PORT", "0")
    assert serve.port_setting() == 0
    serve.main([])  # off: returns at once
    monkeypatch.setenv("CONSOLE_PORT", "http")
    with pytest.raises(SystemExit, match="CONSOLE_PORT"):
        serve.port_setting()


def test_the_parent_option():
    assert serve.parent_option(["--parent", "12"]) == 12
    assert serve.parent_option([]) is None
    with pytest.raises(SystemExit, match="usage"):
        serve.parent_option(["--port", "1"])
    assert serve.parent_alive(os.getpid())
    assert not serve.parent_alive(2**22 + 1)


def test_a_taken_port_is_reported_not_raised(monkeypatch, capsys):
    monkeypatch.setattr(serve.os, "nice", lambda n: 0)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("CONSOLE_PORT", str(taken.getsockname()[1]))
        with pytest.raises(SystemExit):
            serve.main([])
    assert "in use" in capsys.readouterr().err


def test_the_console_stops_with_its_parent(monkeypatch):
    stopped = []
    monkeypatch.setattr(serve, "parent_alive", lambda pid: False)

    class Server:
        def shutdown(self):
            stopped.append(True)

    serve._stop_with(Server(), 1)
    assert stopped == [True]
