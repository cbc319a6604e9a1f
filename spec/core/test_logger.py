import logging
import re

import pytest

from services.core.logger import (
    LOG_DATE_FORMAT,
    LOG_FORMAT,
    EventLogger,
    SafeFormatter,
    Severity,
    configure_logging,
    escape_controls,
    escaping,
)
from services.core.redaction import Redactor


def test_severities_are_ruby_logger_levels():
    assert [int(s) for s in Severity] == [0, 1, 2, 3, 4]
    assert [s.name for s in Severity] == ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]


def test_captures_severity_and_message_for_each_level():
    logger = EventLogger()
    logger.debug("d")
    logger.info("i")
    logger.warn("w")
    logger.warning("w2")
    logger.error("e")
    logger.fatal("f")
    logger.log(Severity.INFO, "direct")
    assert logger.messages == [
        {"severity": 0, "message": "d"},
        {"severity": 1, "message": "i"},
        {"severity": 2, "message": "w"},
        {"severity": 2, "message": "w2"},
        {"severity": 3, "message": "e"},
        {"severity": 4, "message": "f"},
        {"severity": 1, "message": "direct"},
    ]
    assert all(type(m["severity"]) is int for m in logger.messages)


def test_messages_are_text():
    logger = EventLogger()
    logger.info(42)
    logger.info(ValueError("boom"))
    assert logger.messages == [
        {"severity": 1, "message": "42"},
        {"severity": 1, "message": "boom"},
    ]


def test_each_logger_keeps_its_own_messages():
    first, second = EventLogger(), EventLogger()
    first.info("one")
    assert second.messages == []


def test_redacts_secrets_given_to_its_redactor():
    logger = EventLogger(redactor=Redactor(["s3cr3t-value"]))
    logger.info("token s3cr3t-value sent")
    logger.redactor.add("added-later-9")
    logger.error("then added-later-9 and https://x.io/?api_key=k")
    assert logger.messages == [
        {"severity": 1, "message": "token [FILTERED] sent"},
        {"severity": 3, "message": "then [FILTERED] and https://x.io/?api_key=[FILTERED]"},
    ]


def test_default_redactor_still_filters_credential_shapes():
    logger = EventLogger()
    logger.info("Authorization: Bearer abc123def")
    assert logger.messages == [{"severity": 1, "message": "Authorization: Bearer [FILTERED]"}]


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("debug", logging.DEBUG),
        ("info", logging.INFO),
        ("warn", logging.WARNING),
        ("error", logging.ERROR),
        ("fatal", logging.CRITICAL),
    ],
)
def test_forwards_redacted_lines_to_python_logging(caplog, method, level):
    caplog.set_level(logging.DEBUG, logger="services")
    logger = EventLogger("services.tracker", Redactor(["s3cr3t-value"]))
    getattr(logger, method)("using s3cr3t-value at 100% %s")
    records = [r for r in caplog.records if r.name == "services.tracker"]
    assert len(records) == 1
    assert records[0].levelno == level
    assert records[0].getMessage() == "using [FILTERED] at 100% %s"
    assert "s3cr3t-value" not in caplog.text


def test_default_logger_name_is_services(caplog):
    caplog.set_level(logging.INFO, logger="services")
    EventLogger().info("hello")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("services", "hello")]


@pytest.fixture
def services_logging():
    """Restores the 'services' logger after configure_logging changed it."""
    root = logging.getLogger("services")
    handlers, level = list(root.handlers), root.level
    for handler in handlers:
        root.removeHandler(handler)
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def marked(root):
    return [h for h in root.handlers if getattr(h, "_aha_services", False)]


def test_configure_logging_prints_timestamped_lines(services_logging, capsys):
    configure_logging()
    EventLogger("services.tracker", Redactor(["s3cr3t-value"])).warn("careful s3cr3t-value")
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] "
        r"WARNING services\.tracker: careful \[FILTERED\]\n",
        err,
    ), err
    assert LOG_FORMAT.startswith("[%(asctime)s.%(msecs)03d]")
    assert LOG_DATE_FORMAT == "%Y-%m-%d %H:%M:%S"


def test_configure_logging_sets_the_level(services_logging, capsys):
    configure_logging(logging.INFO)
    assert services_logging.level == logging.INFO
    logger = EventLogger("services.x")
    logger.debug("hidden")
    logger.info("shown")
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert "INFO    services.x: shown" in err
    # Every event still captures its debug lines for the proxy's answer.
    assert logger.messages[0] == {"severity": 0, "message": "hidden"}


def test_configure_logging_is_idempotent(services_logging, capsys):
    configure_logging()
    configure_logging()
    assert len(marked(services_logging)) == 1
    assert len(services_logging.handlers) == 1
    EventLogger("services.y").info("once")
    assert capsys.readouterr().err.count("once") == 1


FORGED = "x\n[2026-01-01 00:00:00.000] ERROR   services.redmine: forged line"


def test_a_value_cannot_forge_a_log_line(services_logging, capsys):
    configure_logging()
    EventLogger("services.webhooks").info(f"Webhooks ignoring event :{FORGED}")
    logging.getLogger("services.proxy").warning("event %s", "\x1b[2J\x1b[31mred\r\u2028")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(
        "Webhooks ignoring event :x\\n[2026-01-01 00:00:00.000] ERROR   "
        "services.redmine: forged line"
    )
    assert lines[1].endswith("event \\x1b[2J\\x1b[31mred\\r\\u2028")


def test_escape_controls_leaves_plain_text_alone():
    assert escape_controls("café: 10 €, tab\tend") == "café: 10 €, tab\\tend"
    assert escape_controls("plain") == "plain"
    assert escape_controls("\x00\x7f\x9b") == "\\x00\\x7f\\x9b"


def test_a_traceback_is_fenced_below_its_line(services_logging, capsys):
    configure_logging()
    try:
        raise KeyError(FORGED)
    except KeyError:
        logging.getLogger("services.proxy").exception("failed on %s", "a\nb")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("services.proxy: failed on a\\nb")
    assert lines[1] == "  | Traceback (most recent call last):"
    assert all(line.startswith("  | ") for line in lines[1:])
    assert any("forged line" in line for line in lines[1:])


def test_details_are_fenced_like_a_traceback(services_logging, capsys):
    configure_logging()
    logging.getLogger("services.events").error("one", extra={"details": "two\nthree\x1b"})
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == ["  | two", "  | three\\x1b"]


def test_escaping_keeps_another_formatter_s_format():
    base = logging.Formatter("%(levelname)s <%(message)s>", "%Y")
    formatter = escaping(base)
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "GET %s", ("/\n",), None)
    assert isinstance(formatter, SafeFormatter)
    assert formatter.format(record) == "INFO <GET /\\n>"
    assert formatter.datefmt == "%Y"


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("info", logging.INFO),
        ("WARNING", logging.WARNING),
        ("warn", logging.WARNING),
        ("fatal", logging.CRITICAL),
        ("30", 30),
        ("", logging.DEBUG),
    ],
)
def test_the_log_level_setting_sets_the_level(services_logging, monkeypatch, value, level):
    monkeypatch.setenv("AHA_SERVICES_LOG_LEVEL", value)
    configure_logging()
    assert services_logging.level == level


def test_a_log_level_setting_that_is_no_level_is_said_and_debug_used(
    services_logging, monkeypatch, capsys
):
    monkeypatch.setenv("AHA_SERVICES_LOG_LEVEL", "loud")
    configure_logging()
    assert services_logging.level == logging.DEBUG
    assert "AHA_SERVICES_LOG_LEVEL='loud' is not a log level" in capsys.readouterr().err


def test_an_explicit_level_wins_over_the_setting(services_logging, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_LOG_LEVEL", "error")
    configure_logging(logging.INFO)
    assert services_logging.level == logging.INFO


def test_a_quick_record_holds_what_logging_s_own_record_holds():
    import time

    from services.core.logger import quick_record

    logger = logging.getLogger("services.quick")
    before = time.time()
    record = quick_record(logger, logging.WARNING, "50% done")
    own = logger.makeRecord(logger.name, logging.WARNING, "", 0, "50% done", (), None)
    assert vars(record).keys() == vars(own).keys()
    timed = {"created", "msecs", "relativeCreated"}
    assert {k: v for k, v in vars(record).items() if k not in timed} == {
        k: v for k, v in vars(own).items() if k not in timed
    }
    assert before <= record.created <= time.time()
    assert record.msecs == int((record.created % 1) * 1000)
    assert record.getMessage() == "50% done"


def test_another_record_factory_makes_the_event_logger_s_records(caplog):
    class Tagged(logging.LogRecord):
        pass

    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(Tagged)
    try:
        caplog.set_level(logging.INFO, logger="services")
        EventLogger("services.tagged").info("hello")
    finally:
        logging.setLogRecordFactory(previous)
    assert [type(r) for r in caplog.records] == [Tagged]
    assert caplog.records[0].getMessage() == "hello"
