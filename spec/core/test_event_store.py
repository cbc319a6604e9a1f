"""The event log's file."""

import subprocess
import sys

from services.core import event_store
from spec.conftest import without_coverage

ROWS = [{"at": 1.0, "kind": "send_event", "detail": "{}"}, {"at": 2.0, "kind": "x", "detail": "é"}]


def test_the_rows_writer_keeps_the_last_entries(tmp_path):
    writer = event_store.RowWriter(tmp_path / "log" / "events.sqlite3", keep=2)
    row = {"kind": "send_event", "service": "s", "event": "e", "outcome": "ok"}
    for n in range(3):
        writer.store([{**row, "at": n, "duration": 0, "replay_of": None, "detail": "{}"}])
    writer.close()
    with event_store.connect(tmp_path / "log" / "events.sqlite3") as connection:
        assert [r["at"] for r in connection.execute("SELECT at FROM events")] == [1.0, 2.0]


def test_loading_the_module_does_not_load_sqlite():
    code = "import sys; import services.core.event_store; print('sqlite3' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=without_coverage()
    )
    assert result.stdout.strip() == "False", result.stderr


def test_an_unwritable_place_whose_name_says_locked_is_given_up_not_retried(
    tmp_path, monkeypatch, caplog
):
    (tmp_path / "locked").write_text("a file where the folder should be")
    retries = []
    monkeypatch.setattr(event_store.time, "sleep", retries.append)
    writer = event_store.RowWriter(tmp_path / "locked" / "events.sqlite3", keep=2)
    row = {"kind": "k", "service": "s", "event": "e", "outcome": "ok", "duration": 0}
    monkeypatch.setattr(writer, "_attempt", _at_most(writer._attempt, 5))
    writer.store([{**row, "at": 1, "replay_of": None, "detail": "{}"}])
    assert retries == []
    assert "Could not record events" in caplog.text


def _at_most(attempt, times):
    """``attempt``, which answers "stored" after ``times`` calls: a spec never hangs."""
    calls = []

    def limited(rows):
        calls.append(rows)
        return attempt(rows) or len(calls) >= times

    return limited
