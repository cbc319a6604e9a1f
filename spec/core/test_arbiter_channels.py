"""The channels between gunicorn's arbiter and its workers, and their frames."""

import json
import socket
import subprocess
import sys

import pytest

from services.core import arbiter_channels
from services.core.arbiter_channels import ArbiterChannels
from spec.conftest import without_coverage
from spec.proxy.live_server import wait_until

ROWS = [{"at": 1.0, "kind": "send_event", "detail": "{}"}, {"at": 2.0, "kind": "x", "detail": "é"}]


def test_frames_come_out_as_they_went_in_whatever_the_reads_cut():
    data = arbiter_channels.frame(ROWS) + arbiter_channels.frame(ROWS[:1])
    reader = arbiter_channels.FrameReader()
    batches = []
    for start in range(0, len(data), 7):
        batches.extend(reader.feed(data[start : start + 7]))
    assert batches == [ROWS, ROWS[:1]]


def test_a_frame_longer_than_any_batch_is_refused_before_it_is_read():
    reader = arbiter_channels.FrameReader()
    with pytest.raises(ValueError, match="relayed frame of"):
        list(reader.feed(b"\xff\xff\xff\xff{"))


def test_a_frame_without_a_list_is_refused():
    data = json.dumps({"at": 1}).encode()
    with pytest.raises(ValueError, match="without a list"):
        list(arbiter_channels.FrameReader().feed(len(data).to_bytes(4, "big") + data))


def test_a_frame_nested_deeper_than_python_reads_is_refused_as_no_frame():
    data = b"[" * 200_000
    with pytest.raises(ValueError, match="nested too deeply"):
        list(arbiter_channels.FrameReader().feed(len(data).to_bytes(4, "big") + data))


class _Failing(ArbiterChannels):
    """Fails to take the first frame that arrives, keeps the others."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[list[object]] = []

    def received(self, items: arbiter_channels.Received) -> None:
        if not self.kept:
            self.kept.append([])
            raise RuntimeError("a fault of the subclass")
        self.kept += [sent for _, sent in items]


def test_a_failure_to_take_what_arrived_is_logged_and_the_thread_reads_on(caplog):
    channels = _Failing()
    (end,) = channels.channels_for(1)
    end.sendall(arbiter_channels.frame(["lost"]))
    wait_until(lambda: "could not take what its workers sent" in caplog.text, 5, "the error")
    end.sendall(arbiter_channels.frame(["kept"]))
    wait_until(lambda: channels.kept == [[], ["kept"]], 5, "the next frame")
    assert "a fault of the subclass" in caplog.text


def test_the_base_has_no_default_for_what_arrived():
    with pytest.raises(NotImplementedError):
        ArbiterChannels().received([])


def test_loading_the_file_alone_loads_only_the_standard_library():
    """The proxy's arbiter loads it by its path, without the ``services`` package."""
    code = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('c', {arbiter_channels.__file__!r}); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        "print(sorted(name for name in sys.modules if name.startswith(('services', 'sqlite3'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=without_coverage()
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_a_waiting_worker_reads_the_next_frame_or_learns_the_channel_ended():
    ours, theirs = socket.socketpair()
    data = arbiter_channels.frame(["added", 7, True])
    theirs.sendall(data[:3])
    theirs.sendall(data[3:])
    assert arbiter_channels.next_frame(ours) == ["added", 7, True]
    theirs.close()
    with pytest.raises(EOFError):
        arbiter_channels.next_frame(ours)
    ours.close()
