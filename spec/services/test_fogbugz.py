import email
import re
from urllib.parse import parse_qs

import pytest

from services.core import ConfigurationError, RemoteError
from services.fogbugz import Fogbugz
from services.fogbugz.answers import MAX_ANSWER_BYTES, parse
from spec.conftest import json_fixture, raw_fixture

FOGBUGZ = "https://tracker.example.com/fogbugz"
API = f"{FOGBUGZ}/api.asp"
AHA = "https://acme.aha.io/api/v1"
TOKEN = "fb-token-3j4k5l6m7n8p9q"
CDN = "https://cdn.aha.io/attachments"
MOCKUP, COLUMNS, SAMPLE = (
    f"{CDN}/0001/mockup.png?1699999001",
    f"{CDN}/0002/columns.csv?1699999002",
    f"{CDN}/0003/csv-sample.csv?1699999003",
)
COLUMNS_ASKED = "ixBug,sTitle,sLatestTextSummary,ixStatus,sStatus,fOpen,tags,events"
STATUSES = {
    "1": {"fWorkDone": "false", "fResolved": "false", "sStatus": "Active", "ixStatus": "1"},
    "2": {"fWorkDone": "true", "fResolved": "true", "sStatus": "Resolved", "ixStatus": "2"},
    "3": {"fWorkDone": "false", "fResolved": "true", "sStatus": "Won't Fix", "ixStatus": "3"},
    "4": {"fWorkDone": "true", "fResolved": "false", "sStatus": "Ready for QA", "ixStatus": "4"},
}


@pytest.fixture
def settings(user_data):
    return {**user_data, "fogbugz_url": f"{FOGBUGZ}/", "api_token": TOKEN, "projects": "7"}


def fb(name):
    return raw_fixture(f"fogbugz/{name}")


def xml(mocked_http, name):
    mocked_http.post(API, body=fb(name), content_type="text/xml; charset=utf-8")


def fields_url(kind, reference):
    return f"{AHA}/{kind}/{reference}/integrations/4242/fields"


def link(record, value):
    record["integration_fields"] = [
        {"name": "number", "value": value, "integration_id": 4242, "service_name": "fogbugz"}
    ]


def form(call):
    """The fields of a posted form, url-encoded or multipart; a file part as (name, bytes)."""
    request = call.request
    content_type = request.headers["Content-Type"]
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {key: values[0] for key, values in parse_qs(request.body).items()}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.message_from_bytes(head + request.body)
    found = {}
    for part in message.get_payload():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        body = part.get_payload(decode=True)
        found[name] = (filename, body) if filename else body.decode()
    return found


def api_calls(mocked_http):
    return [form(c) for c in mocked_http.calls if c.request.url == API]


def assert_no_secret(service, error=None):
    assert TOKEN not in str(service.logger.messages)
    if error is not None:
        assert TOKEN not in str(error.value)
    for call in service_calls(service):
        assert TOKEN not in call


def service_calls(service):
    return [m["message"] for m in service.logger.messages]


# --- schema and answers ---------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (Fogbugz.service_name, Fogbugz.title) == ("fogbugz", "FogBugz")
    assert [(f.type, f.name) for f in Fogbugz.schema] == [
        ("string", "fogbugz_url"),
        ("password", "api_token"),
        ("install_button", "install_button"),
        ("select", "projects"),
        ("callback_url", "callback_url"),
    ]
    projects = Fogbugz.field_by_name("projects").remote_collection
    meta_data = {
        "projects": [
            {"ixProject": "2", "sProject": "Inbox"},
            {"ixProject": "7", "sProject": "invoicing"},
        ]
    }
    assert projects(meta_data, {}) == [["Inbox", "2"], ["invoicing", "7"]]
    assert projects({}, {}) == []
    assert Fogbugz.caption_display("marketing_workspace").startswith("Send activities")


def test_answers_with_a_dtd_or_that_are_not_a_response_read_as_none():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><response>&a;</response>'
    assert parse(bomb) is None
    assert parse(b"<html><body>Account Not Found</body></html>") is None
    assert parse(b"not xml at all") is None
    assert parse(b"<response/>") is not None
    with pytest.raises(RemoteError, match="more than"):
        parse(b" " * (MAX_ANSWER_BYTES + 1))


def test_a_dtd_in_another_encoding_is_refused_by_the_parser_itself():
    entities = (
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<response><error code="&b;">x</error></response>'
    )
    external = (
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<response><error code="7">&x;</error></response>'
    )
    for document in (entities, external):
        utf16 = f'<?xml version="1.0" encoding="UTF-16"?>{document}'.encode("utf-16")
        assert parse(utf16) is None
    plain = '<?xml version="1.0" encoding="UTF-16"?><response><case ixBug="7"/></response>'
    assert parse(plain.encode("utf-16")).find("case").get("ixBug") == "7"


# --- installed ------------------------------------------------------------------------------


def test_installed_lists_projects_and_statuses(settings, mocked_http):
    xml(mocked_http, "projects.xml")
    xml(mocked_http, "statuses.xml")
    service = Fogbugz(settings, {}, {"kept": True})
    service.receive("installed")
    assert api_calls(mocked_http) == [
        {"cmd": "listProjects", "token": TOKEN},
        {"cmd": "listStatuses", "token": TOKEN},
    ]
    for call in mocked_http.calls:
        assert call.request.method == "POST"
        assert TOKEN not in call.request.url
        assert "Authorization" not in call.request.headers
    meta_data = service.meta_data_to_return()
    assert meta_data["kept"] is True
    assert [(p["ixProject"], p["sProject"]) for p in meta_data["projects"]] == [
        ("2", "Inbox"),
        ("7", "invoicing"),
    ]
    assert sorted(meta_data["statuses"]) == ["1", "2", "3", "4"]
    assert meta_data["statuses"]["3"]["sStatus"] == "Resolved (Won't Fix)"
    assert meta_data["statuses"]["3"]["fResolved"] == "true"
    assert_no_secret(service)


def test_a_refused_token_is_a_configuration_error(settings, mocked_http):
    xml(mocked_http, "error_not_logged_on.xml")
    service = Fogbugz(settings)
    with pytest.raises(
        ConfigurationError, match="(?s)rejected the credentials.*Not logged on"
    ) as raised:
        service.receive("installed")
    assert_no_secret(service, raised)


def test_another_error_code_is_a_remote_error(settings, mocked_http):
    xml(mocked_http, "error_edit.xml")
    with pytest.raises(
        RemoteError, match="(?s)POST /api.asp answered HTTP 200.*cannot be edited"
    ) as raised:
        Fogbugz(settings).receive("installed")
    assert not isinstance(raised.value, ConfigurationError)


def test_an_answer_without_xml_names_the_url_setting(settings, mocked_http):
    mocked_http.post(API, body="<html><p>Account Not Found</p></html>", content_type="text/html")
    with pytest.raises(ConfigurationError, match=r"\(fogbugz_url\)"):
        Fogbugz(settings).receive("installed")


@pytest.mark.parametrize("status", [404, 405])
def test_no_api_at_the_address_names_the_url_setting(settings, mocked_http, status):
    mocked_http.post(API, status=status, body="<html><h1>Not Found</h1></html>")
    with pytest.raises(ConfigurationError, match=rf"HTTP {status}.*\(fogbugz_url\)"):
        Fogbugz(settings).receive("installed")


@pytest.mark.parametrize("status", [401, 500])
def test_http_errors_follow_the_core_rule(settings, mocked_http, status):
    mocked_http.post(API, status=status, body="x" * 2000)
    error = ConfigurationError if status == 401 else RemoteError
    with pytest.raises(error) as raised:
        Fogbugz(settings).receive("installed")
    assert len(str(raised.value)) < 600


@pytest.mark.parametrize(
    ("missing", "message"),
    [("fogbugz_url", "(fogbugz_url)"), ("api_token", "(api_token)")],
)
def test_missing_settings_send_nothing(settings, mocked_http, missing, message):
    del settings[missing]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Fogbugz(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_feature_without_a_project_sends_nothing(settings, mocked_http):
    del settings["projects"]
    with pytest.raises(ConfigurationError, match=r"\(projects\)"):
        Fogbugz(settings, json_fixture("create_feature_event.json")).receive("create_feature")
    assert len(mocked_http.calls) == 0


# --- features -------------------------------------------------------------------------------


def mock_downloads(mocked_http):
    for url, content in ((MOCKUP, b"\x89PNG-mockup"), (COLUMNS, b"id,total\n"), (SAMPLE, b"a,b\n")):
        mocked_http.get(url, body=content, content_type="application/octet-stream")


def test_an_unlinked_feature_becomes_a_case_and_its_requirements_subcases(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    mock_downloads(mocked_http)
    xml(mocked_http, "case_new.xml")
    for number in ("22", "23"):
        mocked_http.post(
            API,
            body=fb("case_new.xml").replace(">21<", f">{number}<").replace('"21"', f'"{number}"'),
        )
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    mocked_http.post(fields_url("requirements", "ACME-12-1"), json={})
    mocked_http.post(fields_url("requirements", "ACME-12-2"), json={})
    service = Fogbugz(settings, payload)
    service.receive("create_feature")
    calls = api_calls(mocked_http)
    assert calls[0] == {
        "cmd": "new",
        "token": TOKEN,
        "sTitle": "Bulk export of invoices",
        "sEvent": calls[0]["sEvent"],
        "ixProject": "7",
        "cols": COLUMNS_ASKED,
        "sTags": "finance,export",
        "nFileCount": "2",
        "File1": ("mockup.png", b"\x89PNG-mockup"),
        "File2": ("columns.csv", b"id,total\n"),
    }
    assert calls[0]["sEvent"].startswith("Finance teams need to export all invoices")
    assert "<" not in calls[0]["sEvent"]
    assert calls[1] == {
        "cmd": "new",
        "token": TOKEN,
        "sTitle": "Export as CSV",
        "sEvent": "One row per invoice line. Columns as in the attachment.",
        "ixProject": "7",
        "cols": COLUMNS_ASKED,
        "ixBugParent": "21",
        "nFileCount": "1",
        "File1": ("csv-sample.csv", b"a,b\n"),
    }
    assert calls[2]["ixBugParent"] == "21" and "File1" not in calls[2]
    links = [c for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert [c.request.url for c in links] == [
        fields_url("features", "ACME-12"),
        fields_url("requirements", "ACME-12-1"),
        fields_url("requirements", "ACME-12-2"),
    ]
    assert b'"value": "21"' in links[0].request.body or b'"value":"21"' in links[0].request.body
    assert f"{FOGBUGZ}/f/cases/21".encode() in links[0].request.body
    assert_no_secret(service)


def linked_feature():
    payload = json_fixture("create_feature_event.json")
    link(payload["feature"], "20")
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"].append(
        {"file_name": "mockup.png", "download_url": MOCKUP, "content_type": "image/png"}
    )
    return payload


def test_a_linked_case_is_edited_with_what_changed_and_the_files_it_lacks(settings, mocked_http):
    mock_downloads(mocked_http)
    xml(mocked_http, "case_found.xml")
    xml(mocked_http, "case_found.xml")
    service = Fogbugz(settings, linked_feature())
    service.receive("update_feature")
    search, edit = api_calls(mocked_http)
    assert search == {"cmd": "search", "token": TOKEN, "q": "case:20", "cols": COLUMNS_ASKED}
    assert edit == {
        "cmd": "edit",
        "token": TOKEN,
        "ixBug": "20",
        "sTitle": "Bulk export of invoices",
        "ixProject": "7",
        "cols": COLUMNS_ASKED,
        "sTags": "finance,export",
        "nFileCount": "1",
        "File1": ("columns.csv", b"id,total\n"),
    }
    assert [c.request.url for c in mocked_http.calls if c.request.url.startswith(CDN)] == [COLUMNS]
    assert not any(c.request.url.startswith(AHA) for c in mocked_http.calls)


def test_tags_sent_as_one_text_are_split_into_names(settings, mocked_http):
    payload = linked_feature()
    payload["feature"]["tags"] = "finance, export"
    payload["feature"]["description"]["attachments"] = []
    payload["feature"]["attachments"] = []
    xml(mocked_http, "case_found.xml")
    xml(mocked_http, "case_found.xml")
    Fogbugz(settings, payload).receive("update_feature")
    assert api_calls(mocked_http)[1]["sTags"] == "finance,export"


def test_a_linked_case_fogbugz_cannot_find_is_created_again(settings, mocked_http):
    payload = linked_feature()
    payload["feature"]["description"]["attachments"] = []
    xml(mocked_http, "case_none.xml")
    xml(mocked_http, "case_new.xml")
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    Fogbugz(settings, payload).receive("create_feature")
    assert [c["cmd"] for c in api_calls(mocked_http)] == ["search", "new"]


def test_a_file_that_cannot_be_downloaded_is_a_warning(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"]["requirements"] = []
    mocked_http.get(MOCKUP, status=404)
    mocked_http.get(COLUMNS, body=b"id,total\n")
    xml(mocked_http, "case_new.xml")
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    service = Fogbugz(settings, payload)
    service.receive("create_feature")
    (new,) = api_calls(mocked_http)
    assert new["File1"] == ("columns.csv", b"id,total\n") and "File2" not in new
    assert "mockup.png was not sent" in str(service.logger.messages)


def test_a_created_case_without_a_number_is_a_remote_error(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"]["description"]["attachments"] = []
    mocked_http.post(API, body="<response><case/></response>")
    with pytest.raises(RemoteError, match="without a case number"):
        Fogbugz(settings, payload).receive("create_feature")


# --- webhook --------------------------------------------------------------------------------

SEARCH = f"{AHA}/integrations/4242/fields/number/value/20"


def found_case(mocked_http, status="2", open_="true"):
    body = fb("case_found.xml").replace("<ixStatus>2<", f"<ixStatus>{status}<")
    mocked_http.post(API, body=body.replace("<fOpen>true<", f"<fOpen>{open_}<"))


def linked_records(mocked_http, records):
    mocked_http.get(SEARCH, json={"records": records})


FEATURE = {
    "reference_num": "ACME-12",
    "resource": "https://elsewhere.example/api/v1/features/ACME-12",
}


@pytest.mark.parametrize(
    ("status", "open_", "category"),
    [
        ("1", "true", "in_progress"),
        ("2", "true", "done"),
        ("2", "false", "shipped"),
        ("3", "false", "will_not_do"),
    ],
)
def test_webhook_sets_the_status_category(settings, mocked_http, status, open_, category):
    found_case(mocked_http, status, open_)
    linked_records(mocked_http, [{"feature": FEATURE}])
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    service = Fogbugz(settings, {"case_number": "20"}, {"statuses": STATUSES})
    service.receive("webhook")
    put = mocked_http.calls[-1].request
    assert (put.method, put.url) == ("PUT", f"{AHA}/features/ACME-12")
    assert put.body in (
        f'{{"feature": {{"workflow_status": {{"category": "{category}"}}}}}}'.encode(),
        f'{{"feature":{{"workflow_status":{{"category":"{category}"}}}}}}'.encode(),
    )


@pytest.mark.parametrize(("status", "statuses"), [("4", STATUSES), ("2", {})])
def test_webhook_with_an_unknown_status_is_a_configuration_error(
    settings, mocked_http, status, statuses
):
    found_case(mocked_http, status)
    linked_records(mocked_http, [{"requirement": FEATURE}])
    with pytest.raises(ConfigurationError, match="Test connection"):
        Fogbugz(settings, {"case_number": "20"}, {"statuses": statuses}).receive("webhook")
    assert mocked_http.calls[-1].request.method == "GET"


def test_webhook_for_an_unlinked_or_ambiguous_case_changes_nothing(settings, mocked_http):
    found_case(mocked_http)
    linked_records(mocked_http, [])
    service = Fogbugz(settings, {"case_number": "20"}, {"statuses": STATUSES})
    service.receive("webhook")
    assert "not linked" in str(service.logger.messages)
    found_case(mocked_http)
    linked_records(mocked_http, [{"feature": FEATURE}, {"requirement": FEATURE}])
    service = Fogbugz(settings, {"case_number": "20"}, {"statuses": STATUSES})
    service.receive("webhook")
    assert "none was changed" in str(service.logger.messages)
    assert all(c.request.method != "PUT" for c in mocked_http.calls)


def test_webhook_without_a_case_or_a_number_changes_nothing(settings, mocked_http):
    service = Fogbugz(settings, {}).receive("webhook")
    assert "without a case_number" in str(service.logger.messages)
    assert len(mocked_http.calls) == 0
    service = Fogbugz(settings, {"case_number": "x1"}).receive("webhook")
    assert "no case x1" in str(service.logger.messages)
    xml(mocked_http, "case_none.xml")
    service = Fogbugz(settings, {"case_number": "99"}).receive("webhook")
    assert "no case 99" in str(service.logger.messages)
    assert len(mocked_http.calls) == 1
