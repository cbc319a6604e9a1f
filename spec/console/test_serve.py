"""``python -m console``: its port setting, its parent, and a port already taken."""

import os
import socket
import threading

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


def _one_answer_server(answer: bytes) -> tuple[socket.socket, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve_once():
        connection, _ = listener.accept()
        with connection:
            connection.recv(1024)
            connection.sendall(answer)

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    return listener, thread


def test_beside_the_proxy_it_starts_once_the_proxy_answers(monkeypatch):
    listener, thread = _one_answer_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with listener:
        monkeypatch.setenv("PORT", str(listener.getsockname()[1]))
        monkeypatch.setenv("HOST", "0.0.0.0")
        assert serve.wait_for_proxy(os.getpid())
        thread.join(5)


def test_it_keeps_waiting_while_the_proxy_is_silent_and_gives_up_with_its_parent(monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert not serve.proxy_answers(port)
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.delenv("HOST", raising=False)
    alive = iter([True, True, False])
    monkeypatch.setattr(serve, "parent_alive", lambda pid: next(alive))
    naps = []
    monkeypatch.setattr(serve.time, "sleep", naps.append)
    assert not serve.wait_for_proxy(1)
    assert naps == [serve.PROXY_POLL, serve.PROXY_POLL]


def test_a_console_whose_proxy_ended_before_answering_never_starts(monkeypatch):
    monkeypatch.setattr(serve.os, "nice", lambda n: 0)
    monkeypatch.setattr(serve, "wait_for_proxy", lambda parent: False)
    monkeypatch.setattr("console.app.create_app", lambda **kw: pytest.fail("started"))
    serve.main(["--parent", "1"])
