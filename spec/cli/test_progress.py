"""Progress on standard error: a count on a terminal, nothing at all anywhere else."""

import io
import json

import pytest
from click.testing import CliRunner
from responses import matchers

from services.core.cli import app as cli
from services.core.cli import progress as progress_module
from services.core.cli.progress import Progress

TOKEN = "aha-cli-token-progress-5150"
FEATURES = "https://acme.aha.io/api/v1/features"


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Closed(io.StringIO):
    def isatty(self):
        raise ValueError("I/O operation on closed file")


@pytest.fixture
def every_redraw(monkeypatch):
    monkeypatch.setattr(progress_module, "REDRAW", 0.0)


def test_a_terminal_sees_the_count_rewritten_in_place_and_ended(every_redraw):
    terminal = Terminal()
    with Progress("jobs queued again", total=3, stream=terminal) as progress:
        assert list(progress.counted("abc")) == ["a", "b", "c"]
    assert terminal.getvalue() == (
        "\rjobs queued again: 1/3\rjobs queued again: 2/3\rjobs queued again: 3/3"
        "\rjobs queued again: 3/3\n"
    )


def test_redraws_are_spaced_out_but_the_last_count_is_always_drawn(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: 100.0)
    with Progress("records read", stream=terminal) as progress:
        progress.advance(5)
        progress.advance(7)
    assert terminal.getvalue() == "\rrecords read: 5\rrecords read: 12\n"


@pytest.mark.parametrize("stream", [io.StringIO(), Closed()])
def test_a_pipe_a_file_or_a_closed_stream_gets_nothing(stream, every_redraw):
    with Progress("records read", stream=stream) as progress:
        progress.advance(3)
    assert progress.done == 3
    assert not progress.shown
    assert stream.getvalue() == ""


def test_nothing_counted_prints_nothing_even_on_a_terminal():
    terminal = Terminal()
    Progress("records read", stream=terminal).close()
    assert terminal.getvalue() == ""


def test_progress_reads_standard_error_by_default(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert Progress("records read").shown


@pytest.fixture
def two_pages(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    monkeypatch.setenv("AHA_API_TOKEN", TOKEN)
    for page, names in ((1, ["One", "Two"]), (2, ["Three"])):
        mocked_http.get(
            FEATURES,
            match=[matchers.query_param_matcher({"page": str(page), "per_page": "100"})],
            json={
                "features": [{"name": name} for name in names],
                "pagination": {"total_pages": 2, "current_page": page},
            },
        )
    return mocked_http


def _get_all_pages():
    return CliRunner().invoke(cli.main, ["aha", "get", "/api/v1/features", "--all-pages"])


def test_aha_get_all_pages_counts_records_on_a_terminal(two_pages, monkeypatch, every_redraw):
    monkeypatch.setattr(progress_module, "_is_terminal", lambda stream: True)
    result = _get_all_pages()
    assert result.exit_code == 0, result.output
    assert [record["name"] for record in json.loads(result.stdout)] == ["One", "Two", "Three"]
    assert result.stderr.endswith("\rrecords read: 3\n")
    assert "\rrecords read: 1" in result.stderr
    for call in two_pages.calls:
        assert call.request.method == "GET"
        assert call.request.url.startswith(FEATURES + "?")
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert call.request.body is None
    assert len(two_pages.calls) == 2


def test_aha_get_all_pages_adds_nothing_when_standard_error_is_not_a_terminal(two_pages):
    result = _get_all_pages()
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
    assert "records read" not in result.stderr
    assert len(two_pages.calls) == 2


def test_a_failed_read_still_ends_the_progress_line(mocked_http, monkeypatch, every_redraw):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    monkeypatch.setenv("AHA_API_TOKEN", TOKEN)
    monkeypatch.setattr(progress_module, "_is_terminal", lambda stream: True)
    mocked_http.get(
        FEATURES,
        json={"features": [{"name": "One"}], "pagination": {"total_pages": 2, "current_page": 1}},
        match=[matchers.query_param_matcher({"page": "1", "per_page": "100"})],
    )
    mocked_http.get(
        FEATURES,
        status=500,
        json={"error": "down"},
        match=[matchers.query_param_matcher({"page": "2", "per_page": "100"})],
    )
    result = _get_all_pages()
    assert result.exit_code == 3
    assert "\rrecords read: 1\n" in result.stderr
    assert TOKEN not in result.stderr
    assert [call.request.method for call in mocked_http.calls] == ["GET", "GET"]
