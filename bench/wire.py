"""A minimal keep-alive HTTP/1.1 client: cheap enough per request not to be the bottleneck.

http.client parses each response's headers with the email package, which made each
round trip to the bare app about 150 us slower here; this client spends 60-100 us of
CPU a request. With one client that time adds straight to every round trip; with
eight it takes CPU from the servers, which share the machine's 2 cores.
"""

from __future__ import annotations

import re
import socket
from types import TracebackType

_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_HEAD_END = b"\r\n\r\n"


class Connection:
    """One keep-alive connection to 127.0.0.1 that sends prebuilt requests."""

    def __init__(self, port: int, timeout: float = 30.0):
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def exchange(self, request: bytes) -> bytes:
        """Send ``request`` and return the body of a 2xx answer; anything else raises."""
        self._sock.sendall(request)
        data = b""
        while (end := data.find(_HEAD_END)) < 0:
            data += self._receive()
        head = data[:end]
        status = head.split(b"\r\n", 1)[0]
        code = status.split(b" ", 2)[1:2]
        if not code or not code[0].startswith(b"2") or len(code[0]) != 3:
            raise RuntimeError(f"expected HTTP 2xx, got {status.decode(errors='replace')}")
        length = _CONTENT_LENGTH.search(head)
        if length is None:
            raise RuntimeError("the answer has no Content-Length")
        size = end + len(_HEAD_END) + int(length.group(1))
        while len(data) < size:
            data += self._receive()
        return data[end + len(_HEAD_END) : size]

    def _receive(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
