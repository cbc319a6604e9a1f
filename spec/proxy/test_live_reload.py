"""Reload on save, black-box: new requests run the new code while a long event finishes on
the old, and a new service file is picked up like a changed one."""

import json
import threading
from pathlib import Path

import pytest

from spec.proxy.live_server import live_server, wait_until

PROBE = """
import time
from pathlib import Path

from services.core import Service


class Probe(Service):
    title = "Probe {version}"

    def receive_hold(self):
        Path(self.payload.started).touch()
        flag = Path(self.payload.flag)
        deadline = time.monotonic() + 20
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.meta_data.version = "{version}"
"""

SECOND = """
from services.core import Service


class ProbeTwo(Service):
    title = "Probe two"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("reload")
    (root / "services").mkdir()
    (root / "services" / "probe.py").write_text(PROBE.format(version="v1"))
    with live_server(root, AHA_SERVICES_RELOAD="1") as running:
        yield running


def titles(server):
    answer = server.get("/configuration")
    return {s["service_name"]: s["title"] for s in answer.json()["services"]}


def test_the_server_serves_the_copy_it_watches(server):
    assert titles(server)["probe"] == "Probe v1"
    wait_until(lambda: "Reloading on save of" in server.output(), 5.0, "the reloader")
    assert f"{server.root / 'services'}" in server.output()


def test_a_save_reloads_while_a_long_event_finishes_on_the_old_code(server, tmp_path):
    started, flag = tmp_path / "started", tmp_path / "flag"
    answers = []
    event = {
        "service_name": "probe",
        "event": "hold",
        "payload": {"started": str(started), "flag": str(flag)},
    }
    holder = threading.Thread(
        target=lambda: answers.append(server.post("/send_event", event, timeout=30.0))
    )
    holder.start()
    try:
        wait_until(started.exists, 10.0, "the long event to start")
        (server.root / "services" / "probe.py").write_text(PROBE.format(version="v2"))
        (server.root / "services" / "probe_two.py").write_text(SECOND)

        def reloaded():
            served = titles(server)
            return served.get("probe") == "Probe v2" and served.get("probe_two") == "Probe two"

        seconds = wait_until(reloaded, 10.0, "the new code to answer")
        assert seconds < 3.0, f"the new code answered after {seconds:.1f} s"
        assert holder.is_alive()
    finally:
        flag.touch()
        holder.join(30.0)
    [answer] = answers
    assert answer.status == 200
    assert json.loads(answer.body)["meta_data"] == {"version": "v1"}


def test_a_second_save_while_a_long_event_runs_reloads_as_quickly(server, tmp_path):
    started, flag = tmp_path / "started", tmp_path / "flag"
    event = {
        "service_name": "probe",
        "event": "hold",
        "payload": {"started": str(started), "flag": str(flag)},
    }
    holder = threading.Thread(target=lambda: server.post("/send_event", event, timeout=30.0))
    holder.start()
    probe = server.root / "services" / "probe.py"
    try:
        wait_until(started.exists, 10.0, "the long event to start")
        for version in ("v3", "v4"):
            probe.write_text(PROBE.format(version=version))
            seconds = wait_until(
                lambda title=f"Probe {version}": titles(server).get("probe") == title,
                15.0,
                f"{version} to answer",
            )
            # Before, the arbiter sat out its ten-second wait for the retiring worker that
            # runs the event; now at most a second of it, plus workers booting under coverage.
            assert seconds < 6.0, f"{version} answered after {seconds:.1f} s"
        assert holder.is_alive()
    finally:
        flag.touch()
        holder.join(30.0)


def test_a_module_that_does_not_load_is_an_answer_not_a_dead_server(server):
    app = server.root / "proxy" / "serving.py"
    original = app.read_text()
    try:
        app.write_text(original + "\ndef (:\n")
        wait_until(lambda: server.get("/configuration").status == 500, 10.0, "the broken load")
        error = server.get("/configuration").json()["error"]
        assert error.startswith("The proxy could not load: SyntaxError")
    finally:
        app.write_text(original)
    wait_until(lambda: server.get("/configuration").status == 200, 10.0, "the repaired load")
    assert Path(server.root / "services" / "probe.py").exists()
