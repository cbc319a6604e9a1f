"""The server layer, black-box: malformed HTTP, large bodies and slow clients get JSON answers
and cannot take the proxy down."""

import json
import socket
import time
from contextlib import ExitStack

import pytest

from spec.proxy.live_server import live_server, read_answer, wait_until

MAX_BODY = 65536


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    with live_server(
        root, AHA_SERVICES_MAX_BODY=str(MAX_BODY), AHA_SERVICES_REQUEST_TIMEOUT="2"
    ) as running:
        yield running


CHUNKED = b"POST /send_event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def assert_json_error(answer, status, fragment):
    assert answer.status == status, answer
    assert "Content-Type: application/json" in answer.head
    body = answer.json()
    assert list(body) == ["error"]
    assert fragment in body["error"]


@pytest.mark.parametrize(
    ("raw", "status", "fragment"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "Request Line is too"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, "headers"),
        (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request"),
        (b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "CONTENT"),
        (b"GET / HTTP/7.0\r\nHost: x\r\n\r\n", 400, "Bad Request"),
        (CHUNKED + b"ZZ\r\n{}\r\n0\r\n\r\n", 400, "Bad Request"),
        (CHUNKED + b"-2\r\n{}\r\n0\r\n\r\n", 400, "Bad Request"),
        (CHUNKED + b"2\r\n{}XX0\r\n\r\n", 400, "Bad Request"),
        (CHUNKED + b"2;a b\r\n{}\r\n0\r\n\r\n", 400, "Bad Request"),
        (CHUNKED + b"F" * 20 + b"\r\n{}\r\n0\r\n\r\n", 413, "larger than"),
    ],
    ids=[
        "long request line",
        "9 KB header",
        "bad method",
        "negative length",
        "bad version",
        "chunk size not hex",
        "negative chunk size",
        "chunk without its CRLF",
        "bad chunk extension",
        "chunk size of 20 digits",
    ],
)
def test_malformed_http_gets_a_json_error(server, raw, status, fragment):
    answer = server.exchange(raw)
    assert_json_error(answer, status, fragment)
    assert "Connection: close" in answer.head


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    head = b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n"
    assert_json_error(server.exchange(head), 413, f"larger than {MAX_BODY} bytes")


def test_a_chunked_body_is_cut_off_at_the_limit(server):
    chunk = b"%x\r\n%s\r\n" % (16384, b" " * 16384)
    with server.connect() as connection:
        connection.sendall(
            b"POST /send_event HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(MAX_BODY // 16384 + 1):
            connection.sendall(chunk)

        assert_json_error(read_answer(connection), 413, "larger than")


def test_a_chunked_body_within_the_limit_is_served(server):
    body = json.dumps({"service_name": "webhooks", "event": "nothing"}).encode()
    raw = (
        b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n"
        % (len(body), body)
    )
    answer = server.exchange(raw)
    assert answer.status == 200
    assert answer.json()["messages"][0]["message"] == "Integration webhook ignoring event :nothing"


def test_deep_nesting_through_the_whole_server_is_a_400(server):
    body = b"[" * 1000 + b"]" * 1000
    raw = b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    assert_json_error(server.exchange(raw), 400, "nested deeper than 64 levels")


def test_slow_and_idle_clients_do_not_stop_the_proxy_answering(server):
    with ExitStack() as stack:
        for _ in range(64):  # a head that promises a body, then nothing
            connection = stack.enter_context(server.connect())
            connection.sendall(
                b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
            )
        for _ in range(64):  # kept alive after a first request, then idle
            connection = stack.enter_context(server.connect())
            connection.sendall(b"GET /configuration HTTP/1.1\r\nHost: x\r\n\r\n")

            assert read_answer(connection).status == 200
        started = time.monotonic()
        answer = server.get("/configuration", timeout=1.0)
        assert answer.status == 200
        assert time.monotonic() - started < 1.0


def test_a_request_that_does_not_arrive_in_time_is_dropped(server):
    with server.connect(timeout=10.0) as connection:
        connection.sendall(b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        started = time.monotonic()

        answer = read_answer(connection)
        waited = time.monotonic() - started
        assert_json_error(answer, 408, "did not arrive within 2 s")
        assert 1.5 < waited < 5.0
        assert connection.recv(100) == b""


def test_a_forged_log_line_stays_on_its_own_line(server):
    forged = "x\n[2026-01-01 00:00:00.000] ERROR   services.redmine: forged line\x1b[2J"
    answer = server.post("/send_event", {"service_name": "webhooks", "event": forged})
    assert answer.status == 200
    wait_until(lambda: "forged line" in server.output(), 5.0, "the event's log line")
    lines = server.output().splitlines()
    assert not any("| [2026-01-01" in line for line in lines)
    assert any(
        line.endswith(
            "ignoring event :x\\n[2026-01-01 00:00:00.000] ERROR   "
            "services.redmine: forged line\\x1b[2J"
        )
        for line in lines
    )


def test_a_socket_closed_half_way_costs_nothing(server):
    with server.connect() as connection:
        connection.sendall(b"POST /send_event HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        connection.shutdown(socket.SHUT_WR)
    assert server.get("/configuration").status == 200
