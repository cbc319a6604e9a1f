"""Whether the bytes received so far hold a whole HTTP/1.1 request.

The worker's main loop reads every request before a thread takes it, so that a
client that sends slowly, or stops half-way, holds no thread. This only finds
where a request ends; gunicorn's parser still reads it and judges it. Whatever
looks malformed here is passed on as ready, and the parser answers it.
"""

from __future__ import annotations

import re
from enum import Enum

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
_TRANSFER_ENCODING = re.compile(rb"(?im)^transfer-encoding[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
_EXPECT_CONTINUE = re.compile(rb"(?im)^expect[ \t]*:[ \t]*100-continue[ \t]*\r?$")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# A chunk-size line longer than this is malformed; the parser says so.
_MAX_CHUNK_LINE = 1024


class Framing(Enum):
    INCOMPLETE = "incomplete"
    READY = "ready"
    TOO_LARGE = "too large"


def request_framing(
    data: bytes | bytearray, *, max_body: int, max_line: int, max_head: int
) -> Framing:
    """``READY`` when ``data`` starts with a whole request (or one the parser will refuse:
    a first line over ``max_line`` or a head over ``max_head`` bytes), ``TOO_LARGE`` when
    its body is longer than ``max_body`` bytes, else ``INCOMPLETE``."""
    end = data.find(_HEAD_END)
    if end < 0:
        too_long = len(data) > max_head or (
            len(data) > max_line + 2 and data.find(b"\r\n", 0, max_line + 2) < 0
        )
        return Framing.READY if too_long else Framing.INCOMPLETE
    head = bytes(data[: end + 2])
    body_start = end + len(_HEAD_END)
    encodings = _TRANSFER_ENCODING.findall(head)
    if encodings:
        if not bytes(encodings[-1]).lower().rstrip().endswith(b"chunked"):
            return Framing.READY
        return _chunked(data, body_start, max_body)
    lengths = _CONTENT_LENGTH.findall(head)
    if not lengths:
        return Framing.READY
    if len(set(lengths)) > 1 or not lengths[0].isdigit():
        return Framing.READY
    length = int(lengths[0])
    if length > max_body:
        return Framing.TOO_LARGE
    return Framing.READY if len(data) - body_start >= length else Framing.INCOMPLETE


def expects_continue(data: bytes | bytearray) -> bool:
    """Whether the request's head (complete in ``data``) asks for ``100 Continue``."""
    end = data.find(_HEAD_END)
    return end >= 0 and _EXPECT_CONTINUE.search(bytes(data[: end + 2])) is not None


def _chunked(data: bytes | bytearray, position: int, max_body: int) -> Framing:
    total = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return Framing.READY if len(data) - position > _MAX_CHUNK_LINE else Framing.INCOMPLETE
        size_text = bytes(data[position:line_end]).split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            return Framing.READY
        digits = size_text.lstrip(b"0") or b"0"
        if len(digits) > 16:  # more than any body could hold, whatever the limit
            return Framing.TOO_LARGE
        size = int(digits, 16)
        total += size
        if total > max_body:
            return Framing.TOO_LARGE
        position = line_end + 2
        if size == 0:
            return _trailers(data, position)
        position += size + 2
        if position > len(data):
            return Framing.INCOMPLETE


def _trailers(data: bytes | bytearray, position: int) -> Framing:
    """The trailer section after the last chunk ends with an empty line."""
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return Framing.READY if len(data) - position > _MAX_CHUNK_LINE else Framing.INCOMPLETE
        if line_end == position:
            return Framing.READY
        position = line_end + 2
