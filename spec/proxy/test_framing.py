import pytest

from proxy.framing import ChunkProgress, Framing, expects_continue, request_framing
from proxy.reloader import changed_files, snapshot
from proxy.worker import json_answer


def framing(data, max_body=100, progress=None):
    return request_framing(
        data, max_body=max_body, max_line=4094, max_head=16384, progress=progress
    )


HEAD = b"POST /send_event HTTP/1.1\r\nHost: x\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GET /configuration HTTP/1.1\r\nHost: x", Framing.INCOMPLETE),
        (b"GET /configuration HTTP/1.1\r\nHost: x\r\n\r\n", Framing.READY),
        (HEAD + b"Content-Length: 5\r\n\r\n{}", Framing.INCOMPLETE),
        (HEAD + b'content-length:5\r\n\r\n{"a"}', Framing.READY),
        (HEAD + b"Content-Length: 101\r\n\r\n", Framing.TOO_LARGE),
        (HEAD + b"Content-Length: -5\r\n\r\n", Framing.READY),
        (HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", Framing.READY),
        (CHUNKED + b"2\r\n{}\r\n", Framing.INCOMPLETE),
        (CHUNKED + b"2\r\n{}\r\n0\r\n\r\n", Framing.READY),
        (CHUNKED + b"2\r\n{}\r\n0\r\nX-T: 1\r\n", Framing.INCOMPLETE),
        (CHUNKED + b"65\r\n", Framing.TOO_LARGE),
        (CHUNKED + b"0x2\r\n", Framing.READY),
        (CHUNKED + b"F" * 20 + b"\r\n", Framing.TOO_LARGE),
        (CHUNKED + b"0" * 20 + b"2\r\n{}\r\n", Framing.INCOMPLETE),
        (HEAD + b"Transfer-Encoding: gzip\r\n\r\n", Framing.READY),
        (b"GET /" + b"a" * 5000, Framing.READY),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 17000, Framing.READY),
    ],
)
def test_a_request_is_handed_on_once_whole(data, expected):
    assert framing(data) is expected


def test_a_chunked_body_is_counted_across_chunks():
    chunks = b"".join(b"20\r\n" + b"x" * 32 + b"\r\n" for _ in range(4))
    assert framing(CHUNKED + b"" + chunks) is Framing.TOO_LARGE


def test_a_chunked_body_read_piece_by_piece_is_read_on_from_where_it_stopped():
    progress = ChunkProgress()
    body = b"2\r\n{}\r\n1;ext=1\r\n \r\n0\r\nX-T: 1\r\n\r\n"
    data = bytearray(CHUNKED)
    seen = []
    for byte in body:
        data.append(byte)
        seen.append(framing(data, progress=progress))
    assert seen[:-1] == [Framing.INCOMPLETE] * (len(body) - 1)
    assert seen[-1] is Framing.READY
    assert progress.total == 3


def test_a_chunked_body_is_not_read_again_from_its_start_on_each_look():
    # The worker's main loop looks at a request each time a piece of it arrives: a body
    # of a million one-byte chunks read from its start on every look holds that loop
    # (and every client of the worker) for seconds. What was read is not read again:
    # bytes changed behind the chunks already read change nothing.
    progress = ChunkProgress()
    data = bytearray(CHUNKED + b"1\r\nx\r\n" * 1000)
    assert framing(data, max_body=10_000, progress=progress) is Framing.INCOMPLETE
    assert progress.total == 1000
    data[len(CHUNKED)] = ord("z")  # a malformed first chunk, were it read again
    data += b"1\r\nx\r\n"
    assert framing(data, max_body=10_000, progress=progress) is Framing.INCOMPLETE
    assert progress.total == 1001
    assert framing(data, max_body=10_000) is Framing.READY  # read from the start


@pytest.mark.parametrize("extension", [b"", b";" + b"e" * 1000])
def test_a_chunked_body_whose_framing_outweighs_its_data_is_too_large(extension):
    chunk = b"1" + extension + b"\r\nx\r\n"
    data = CHUNKED + chunk * ((2 * 1000 + (1 << 16)) // len(chunk) + 1)
    assert framing(data, max_body=1000) is Framing.TOO_LARGE


def test_trailers_without_end_are_too_large_once_past_the_allowance():
    data = CHUNKED + b"0\r\n" + b"X-T: 1\r\n" * 10_000
    assert framing(data, max_body=1000) is Framing.TOO_LARGE


def test_expect_continue_is_seen_once_the_head_is_whole():
    assert expects_continue(HEAD + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    assert not expects_continue(HEAD + b"Expect: 100-continue\r\n")
    assert not expects_continue(HEAD + b"\r\n")


def test_a_server_answer_is_json_and_closes():
    answer = json_answer(413, 'too "big"')
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"Content-Type: application/json" in head
    assert b"Connection: close" in head
    assert body == b'{"error": "too \\"big\\""}'
    assert f"Content-Length: {len(body)}".encode() in head


def test_the_reloader_sees_changed_added_and_removed_files(tmp_path):
    (tmp_path / "kept.py").write_text("a = 1")
    (tmp_path / "gone.py").write_text("b = 1")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "kept.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    before = snapshot([tmp_path])
    assert sorted(before) == [str(tmp_path / "gone.py"), str(tmp_path / "kept.py")]
    (tmp_path / "kept.py").write_text("a = 22")
    (tmp_path / "gone.py").unlink()
    (tmp_path / "new.py").write_text("")
    assert changed_files(before, snapshot([tmp_path])) == [
        str(tmp_path / name) for name in ("gone.py", "kept.py", "new.py")
    ]


def test_an_idle_worker_gives_freed_memory_back_at_most_once_a_second(monkeypatch):
    from proxy import worker

    clock = [100.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    trims = []
    idle = object.__new__(worker.ProxyWorker)
    idle._trim, idle._next_trim, idle.running, idle._trim_due = trims.append, 0.0, 0, True
    idle.release_memory()
    assert trims == [0]
    idle._trim_due = True  # the end of a burst, half a second later
    clock[0] += 0.5
    idle.release_memory()
    assert trims == [0]
    clock[0] += 0.6  # a later turn of the main loop
    idle.release_memory()
    assert trims == [0, 0]
    clock[0] += 5.0  # nothing ran since: nothing to give back
    idle.release_memory()
    assert trims == [0, 0]


def test_a_worker_running_a_request_does_not_trim(monkeypatch):
    from proxy import worker

    trims = []
    busy = object.__new__(worker.ProxyWorker)
    busy._trim, busy._next_trim, busy.running, busy._trim_due = trims.append, 0.0, 1, True
    busy.release_memory()
    assert trims == [] and busy._trim_due


def test_the_c_library_s_trim_is_found_or_left_out():
    from proxy.worker import _malloc_trim

    trim = _malloc_trim()
    assert trim is None or trim(0) in (0, 1)
