"""Whether the bytes received so far hold a whole HTTP/1.1 request.

The worker's main loop reads every request before a thread takes it, so that a
client that sends slowly, or stops half-way, holds no thread. This only finds
where a request ends; gunicorn's parser still reads it and judges it. Whatever
looks malformed here is passed on as ready, and the parser answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
_TRANSFER_ENCODING = re.compile(rb"(?im)^transfer-encoding[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")
_EXPECT_CONTINUE = re.compile(rb"(?im)^expect[ \t]*:[ \t]*100-continue[ \t]*\r?$")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# A chunk-size line longer than this is malformed; the parser says so.
_MAX_CHUNK_LINE = 1024
# A chunked body may take this many bytes on the wire beyond twice ``max_body``: sizes,
# extensions and trailers are framing, not data, and are not free to buffer either.
_CHUNK_FRAMING_ALLOWANCE = 1 << 16


class Framing(Enum):
    INCOMPLETE = "incomplete"
    READY = "ready"
    TOO_LARGE = "too large"


@dataclass
class ChunkProgress:
    """How far the chunks of a request's body were read at the last look, so that each
    look reads only what arrived since: rereading every chunk from the start each time
    would let a body of many tiny chunks hold the worker's main loop for seconds."""

    position: int = 0  # where the next chunk-size (or trailer) line starts; 0: not yet
    total: int = 0  # the data bytes of the chunks before it
    trailers: bool = False


def request_framing(
    data: bytes | bytearray,
    *,
    max_body: int,
    max_line: int,
    max_head: int,
    progress: ChunkProgress | None = None,
) -> Framing:
    """``READY`` when ``data`` starts with a whole request (or one the parser will refuse:
    a first line over ``max_line`` or a head over ``max_head`` bytes), ``TOO_LARGE`` when
    its body is longer than ``max_body`` bytes (a chunked one also when its framing takes
    as much again, and more), else ``INCOMPLETE``. ``progress``, given again with the same
    ``data`` grown, lets a chunked body be read on from where the last call stopped."""
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
        return _chunked(data, body_start, max_body, progress or ChunkProgress())
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


def _chunked(
    data: bytes | bytearray, body_start: int, max_body: int, progress: ChunkProgress
) -> Framing:
    if len(data) - body_start > 2 * max_body + _CHUNK_FRAMING_ALLOWANCE:
        return Framing.TOO_LARGE
    if progress.position < body_start:
        progress.position, progress.total, progress.trailers = body_start, 0, False
    if progress.trailers:
        return _trailers(data, progress)
    position = progress.position
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
        if progress.total + size > max_body:
            return Framing.TOO_LARGE
        if size == 0:
            progress.position, progress.trailers = line_end + 2, True
            return _trailers(data, progress)
        following = line_end + 2 + size + 2
        if following > len(data):
            return Framing.INCOMPLETE
        position = progress.position = following
        progress.total += size


def _trailers(data: bytes | bytearray, progress: ChunkProgress) -> Framing:
    """The trailer section after the last chunk ends with an empty line."""
    while True:
        position = progress.position
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return Framing.READY if len(data) - position > _MAX_CHUNK_LINE else Framing.INCOMPLETE
        if line_end == position:
            return Framing.READY
        progress.position = line_end + 2
