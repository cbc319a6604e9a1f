import json
import re

import pytest

from proxy.app import create_app
from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.registry import load_registry
from services.redmine import Redmine
from spec.conftest import json_fixture, raw_fixture, request_json

REDMINE = "https://redmine.example.com"
AHA = "https://acme.aha.io/api/v1"
API_KEY = "rm-key-8c2f4e1d9a"
CDN = "https://cdn.aha.io/attachments"
MOCKUP, COLUMNS, SAMPLE = (
    f"{CDN}/0001/mockup.png?1699999001",
    f"{CDN}/0002/columns.csv?1699999002",
    f"{CDN}/0003/csv-sample.csv?1699999003",
)
TOKEN = "77.5c1f2e9a0b3d4c6e8f7a9b1c2d3e4f50"


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "redmine_url": f"{REDMINE}/",
        "api_key": API_KEY,
        "project": "7",
        "tracker": "2",
        "issue_priority": "3",
    }


VERSION_CHECK = ("GET", f"{REDMINE}/versions/41.json")


@pytest.fixture(autouse=True)
def linked_version(mocked_http):
    """Version 41, which the release of ``feature_event`` is linked to, is still in Redmine."""
    mocked_http.get(f"{REDMINE}/versions/41.json", body=raw_fixture("redmine/version.json"))


def redmine_fixture(name):
    return json_fixture(f"redmine/{name}")


def fields_url(kind, reference):
    return f"{AHA}/{kind}/{reference}/integrations/4242/fields"


def link(record, name, value, integration_id=4242):
    record["integration_fields"] = [
        {"name": name, "value": value, "integration_id": integration_id, "service_name": "redmine"}
    ]


def feature_event(release_id="41"):
    """The shared create_feature payload; the release linked to version ``release_id``."""
    payload = json_fixture("create_feature_event.json")
    if release_id is None:
        payload["feature"]["release"]["integration_fields"] = []
    else:
        link(payload["feature"]["release"], "id", release_id)
    return payload


def requests_made(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


def assert_redmine_auth(mocked_http):
    for call in mocked_http.calls:
        url = call.request.url
        if url.startswith(REDMINE):
            assert call.request.headers["X-Redmine-API-Key"] == API_KEY
            assert "Authorization" not in call.request.headers
            assert API_KEY not in url
        else:
            assert "X-Redmine-API-Key" not in call.request.headers


def assert_no_secret(service, error=None):
    assert API_KEY not in str(service.logger.messages)
    if error is not None:
        assert API_KEY not in str(error.value)


def mock_downloads(mocked_http):
    for url, content in ((MOCKUP, b"\x89PNG-mockup"), (COLUMNS, b"id,total\n"), (SAMPLE, b"a,b\n")):
        mocked_http.get(url, body=content, content_type="application/octet-stream")


def upload_calls(mocked_http):
    return [c for c in mocked_http.calls if c.request.url == f"{REDMINE}/uploads.json"]


# --- schema ---------------------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (Redmine.service_name, Redmine.title) == ("redmine", "Redmine")
    assert [(f.type, f.name) for f in Redmine.schema] == [
        ("string", "redmine_url"),
        ("password", "api_key"),
        ("install_button", "install_button"),
        ("select", "project"),
        ("select", "tracker"),
        ("select", "issue_priority"),
        ("select", "text_formatting"),
    ]
    formatting = Redmine.field_by_name("text_formatting").options["collection"]
    assert [value for _, value in formatting] == ["textile", "common_mark"]
    assert Redmine.caption_display("marketing_workspace").startswith("Send activities")


def test_remote_selects_sort_projects_by_name_and_keep_redmine_order_for_the_rest():
    meta_data = {
        "projects": [
            {"id": 7, "name": "payments"},
            {"id": 3, "name": "Website"},
            {"id": 12, "name": "Mobile app"},
        ],
        "trackers": [{"id": 2, "name": "Feature"}, {"id": 1, "name": "Bug"}],
        "issue_priorities": [
            {"id": 1, "name": "Low"},
            {"id": 4, "name": "Urgent"},
            {"id": 2, "name": "Normal"},
        ],
    }

    def collection(name):
        return Redmine.field_by_name(name).remote_collection(meta_data, {})

    assert collection("project") == [["Mobile app", 12], ["payments", 7], ["Website", 3]]
    assert collection("tracker") == [["Feature", 2], ["Bug", 1]]
    assert collection("issue_priority") == [["Low", 1], ["Urgent", 4], ["Normal", 2]]
    assert Redmine.field_by_name("project").remote_collection({}, {}) == []


# --- installed ------------------------------------------------------------------------------


def mock_lists(mocked_http):
    mocked_http.get(
        f"{REDMINE}/projects.json?limit=100&offset=0",
        body=raw_fixture("redmine/projects_page1.json"),
    )
    mocked_http.get(
        f"{REDMINE}/projects.json?limit=100&offset=2",
        body=raw_fixture("redmine/projects_page2.json"),
    )
    mocked_http.get(f"{REDMINE}/trackers.json", body=raw_fixture("redmine/trackers.json"))
    mocked_http.get(
        f"{REDMINE}/enumerations/issue_priorities.json",
        body=raw_fixture("redmine/issue_priorities.json"),
    )


def test_installed_reads_every_project_page_the_trackers_and_the_priorities(settings, mocked_http):
    mock_lists(mocked_http)
    service = Redmine(settings, {}, {"projects": [{"id": 1, "name": "Old"}], "kept": True})
    service.receive("installed")
    assert requests_made(mocked_http) == [
        ("GET", f"{REDMINE}/projects.json?limit=100&offset=0"),
        ("GET", f"{REDMINE}/projects.json?limit=100&offset=2"),
        ("GET", f"{REDMINE}/trackers.json"),
        ("GET", f"{REDMINE}/enumerations/issue_priorities.json"),
    ]
    assert_redmine_auth(mocked_http)
    assert service.meta_data_to_return() == {
        "kept": True,
        "projects": [
            {"id": 7, "name": "payments"},
            {"id": 3, "name": "Website"},
            {"id": 12, "name": "Mobile app"},
        ],
        "trackers": [
            {"id": 2, "name": "Feature"},
            {"id": 1, "name": "Bug"},
            {"id": 3, "name": "Support"},
        ],
        "issue_priorities": [
            {"id": 1, "name": "Low"},
            {"id": 2, "name": "Normal"},
            {"id": 3, "name": "High"},
            {"id": 4, "name": "Urgent"},
        ],
    }
    assert_no_secret(service)


def test_installed_without_a_total_count_stops_at_a_short_page(settings, mocked_http):
    page = redmine_fixture("projects_page1.json")
    del page["total_count"]
    mocked_http.get(f"{REDMINE}/projects.json?limit=100&offset=0", json=page)
    mocked_http.get(f"{REDMINE}/trackers.json", json={"trackers": []})
    mocked_http.get(f"{REDMINE}/enumerations/issue_priorities.json", json={"issue_priorities": []})
    service = Redmine(settings).receive("installed")
    assert [p["id"] for p in service.meta_data.projects] == [7, 3]
    assert len(mocked_http.calls) == 3


@pytest.mark.parametrize(
    ("path", "answer", "said"),
    [
        ("/projects.json?limit=100&offset=0", [], "with an array where an object was expected"),
        ("/projects.json?limit=100&offset=0", {"projects": [7]}, "its projects with an array"),
        ("/trackers.json", {"trackers": "Bug"}, "its trackers with a string where an array"),
    ],
)
def test_installed_answers_of_another_shape_are_remote_errors(
    settings, mocked_http, path, answer, said
):
    mocked_http.get(f"{REDMINE}/projects.json?limit=100&offset=0", json={"projects": []})
    mocked_http.get(f"{REDMINE}/trackers.json", json={"trackers": []})
    mocked_http.get(f"{REDMINE}/enumerations/issue_priorities.json", json={"issue_priorities": []})
    mocked_http.replace("GET", f"{REDMINE}{path}", json=answer)
    with pytest.raises(RemoteError, match=said):
        Redmine(settings).receive("installed")


def test_installed_with_refused_credentials_is_a_configuration_error(settings, mocked_http):
    mocked_http.get(
        f"{REDMINE}/projects.json?limit=100&offset=0", status=401, body=f"bad key {API_KEY}"
    )
    service = Redmine(settings)
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == "Redmine rejected the credentials (401) for GET /projects.json"
    assert_no_secret(service, raised)


def test_installed_with_a_server_error_is_a_remote_error(settings, mocked_http):
    mocked_http.get(f"{REDMINE}/projects.json?limit=100&offset=0", json={})
    mocked_http.get(f"{REDMINE}/trackers.json", status=500, body="Internal error")
    with pytest.raises(RemoteError) as raised:
        Redmine(settings).receive("installed")
    assert str(raised.value) == "Redmine: GET /trackers.json answered HTTP 500: Internal error"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("redmine_url", "The Redmine URL (redmine_url) is not set"),
        ("api_key", "The Redmine API key (api_key) is not set"),
    ],
)
def test_missing_connection_settings_are_configuration_errors(
    settings, mocked_http, missing, message
):
    del settings[missing]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Redmine(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_key_is_never_sent_over_plain_http(settings, mocked_http):
    settings["redmine_url"] = "http://redmine.example.com"
    with pytest.raises(InvalidUrlError, match="plain http"):
        Redmine(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_local_redmine_the_operator_allowed_is_reached(settings, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    settings["redmine_url"] = "http://127.0.0.1:3000/redmine/"
    base = "http://127.0.0.1:3000/redmine"
    mocked_http.get(
        f"{base}/projects.json?limit=100&offset=0", json={"projects": [], "total_count": 0}
    )
    mocked_http.get(f"{base}/trackers.json", json={"trackers": []})
    mocked_http.get(f"{base}/enumerations/issue_priorities.json", json={"issue_priorities": []})
    Redmine(settings).receive("installed")
    assert len(mocked_http.calls) == 3
    assert mocked_http.calls[0].request.headers["X-Redmine-API-Key"] == API_KEY


def test_a_redmine_on_a_private_address_is_refused(settings, mocked_http):
    settings["redmine_url"] = "https://intranet.example.com"
    with pytest.raises(InvalidUrlError):
        Redmine(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_an_api_key_pasted_with_a_line_break_is_a_configuration_error_that_hides_it(
    settings, mocked_http
):
    settings["api_key"] = "RMKEY-s3cr3t-0123456789\n"
    service = Redmine(settings)
    with pytest.raises(ConfigurationError, match="A header for redmine.example.com") as raised:
        service.receive("installed")
    texts = [str(raised.value), *(m["message"] for m in service.logger.messages)]
    assert not any("RMKEY" in text for text in texts)
    assert len(mocked_http.calls) == 0


# --- releases -------------------------------------------------------------------------------

VERSION_BODY = {
    "version": {
        "name": "Winter launch",
        "due_date": "2026-12-18",
        "description": "Created from Aha! https://acme.aha.io/releases/ACME-R-3",
    }
}


def test_create_release_creates_a_version_and_links_it(settings, mocked_http):
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service = Redmine(settings, json_fixture("create_release_event.json"))
    service.receive("create_release")
    assert requests_made(mocked_http) == [
        ("POST", f"{REDMINE}/projects/7/versions.json"),
        ("POST", fields_url("releases", "ACME-R-3")),
    ]
    assert_redmine_auth(mocked_http)
    assert request_json(mocked_http.calls[0]) == VERSION_BODY
    assert request_json(mocked_http.calls[1]) == {
        "integration_fields": [
            {"name": "id", "value": 58},
            {"name": "name", "value": "Winter launch"},
            {"name": "url", "value": f"{REDMINE}/versions/58"},
        ]
    }
    assert_no_secret(service)


@pytest.mark.parametrize("event", ["create_release", "update_release"])
@pytest.mark.parametrize("status", [200, 204])
def test_a_linked_release_updates_its_version(settings, mocked_http, event, status):
    payload = json_fixture("update_release_event.json")
    mocked_http.put(
        f"{REDMINE}/versions/41.json", status=status, body="" if status == 204 else "{}"
    )
    Redmine(settings, payload).receive(event)
    assert requests_made(mocked_http) == [("PUT", f"{REDMINE}/versions/41.json")]
    assert_redmine_auth(mocked_http)
    assert request_json(mocked_http.calls[0]) == {
        "version": {**VERSION_BODY["version"], "due_date": "2026-12-22"}
    }


def test_update_release_of_an_unlinked_release_creates_the_version(settings, mocked_http):
    payload = json_fixture("update_release_event.json")
    # Only another integration's link, though it bears this service's name: not ours.
    payload["release"]["integration_fields"] = payload["release"]["integration_fields"][2:]
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    Redmine(settings, payload).receive("update_release")
    assert requests_made(mocked_http) == [
        ("POST", f"{REDMINE}/projects/7/versions.json"),
        ("POST", fields_url("releases", "ACME-R-3")),
    ]


def test_a_linked_version_that_vanished_is_created_again(settings, mocked_http):
    mocked_http.put(f"{REDMINE}/versions/41.json", status=404, body="")
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service = Redmine(settings, json_fixture("update_release_event.json"))
    service.receive("update_release")
    assert [m for _, m in requests_made(mocked_http)] == [
        f"{REDMINE}/versions/41.json",
        f"{REDMINE}/projects/7/versions.json",
        fields_url("releases", "ACME-R-3"),
    ]
    assert request_json(mocked_http.calls[2])["integration_fields"][0] == {
        "name": "id",
        "value": 58,
    }
    assert "linked version 41 is gone from Redmine" in str(service.logger.messages)


def test_a_version_refused_by_redmine_is_a_remote_error(settings, mocked_http):
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=422,
        json={"errors": ["Name has already been taken"]},
    )
    with pytest.raises(RemoteError) as raised:
        Redmine(settings, json_fixture("create_release_event.json")).receive("create_release")
    assert str(raised.value) == (
        "Redmine: POST /projects/7/versions.json answered HTTP 422: "
        '{"errors": ["Name has already been taken"]}'
    )
    assert len(mocked_http.calls) == 1


def test_a_release_without_a_project_is_a_configuration_error(settings, mocked_http):
    del settings["project"]
    with pytest.raises(ConfigurationError, match="project is not set"):
        Redmine(settings, json_fixture("create_release_event.json")).receive("create_release")
    assert len(mocked_http.calls) == 0


# --- features -------------------------------------------------------------------------------

FEATURE_TEXTILE = (
    "Finance teams need to export *all invoices* of a quarter at once. "
    'See "the spec":https://wiki.example.com/export.\n\n'
    "* CSV\n* PDF bundle\n\n"
    "mockup.png (https://cdn.aha.io/attachments/0001/mockup.png?1699999001)\n"
    "columns.csv (https://cdn.aha.io/attachments/0002/columns.csv?1699999002)\n\n"
    "Created from Aha! https://acme.aha.io/features/ACME-12"
)


def upload(name, content_type):
    return {"token": TOKEN, "filename": name, "content_type": content_type}


def mock_creation(mocked_http, ids=(1204, 1205, 1206)):
    for issue_id in ids:
        answer = redmine_fixture("issue_created.json")
        answer["issue"]["id"] = issue_id
        mocked_http.post(f"{REDMINE}/issues.json", status=201, json=answer)
    mocked_http.post(
        f"{REDMINE}/uploads.json", status=201, body=raw_fixture("redmine/upload_created.json")
    )
    for reference in ("ACME-12", "ACME-12-1", "ACME-12-2"):
        kind = "features" if reference == "ACME-12" else "requirements"
        mocked_http.post(fields_url(kind, reference), json={})
    mock_downloads(mocked_http)


def test_create_feature_creates_issues_for_the_feature_and_its_requirements(settings, mocked_http):
    mock_creation(mocked_http)
    service = Redmine(settings, feature_event())
    service.receive("create_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("GET", MOCKUP),
        ("POST", f"{REDMINE}/uploads.json"),
        ("GET", COLUMNS),
        ("POST", f"{REDMINE}/uploads.json"),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("features", "ACME-12")),
        ("GET", SAMPLE),
        ("POST", f"{REDMINE}/uploads.json"),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("requirements", "ACME-12-1")),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("requirements", "ACME-12-2")),
    ]
    assert_redmine_auth(mocked_http)
    calls = mocked_http.calls
    assert request_json(calls[5]) == {
        "issue": {
            "project_id": 7,
            "tracker_id": 2,
            "priority_id": 3,
            "subject": "Bulk export of invoices",
            "description": FEATURE_TEXTILE,
            "fixed_version_id": 41,
            "uploads": [upload("mockup.png", "image/png"), upload("columns.csv", "text/csv")],
        }
    }
    assert request_json(calls[6]) == {
        "integration_fields": [
            {"name": "id", "value": 1204},
            {"name": "url", "value": f"{REDMINE}/issues/1204"},
        ]
    }
    assert request_json(calls[9]) == {
        "issue": {
            "project_id": 7,
            "tracker_id": 2,
            "priority_id": 3,
            "subject": "Export as CSV",
            "description": "One row per invoice line. Columns as in the attachment.\n\n"
            "csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)\n\n"
            "Created from Aha! https://acme.aha.io/requirements/ACME-12-1",
            "fixed_version_id": 41,
            "parent_issue_id": 1204,
            "uploads": [upload("csv-sample.csv", "text/csv")],
        }
    }
    second = request_json(calls[11])["issue"]
    assert second["subject"] == "Bundle the PDFs in one zip & name it by quarter"
    assert (second["parent_issue_id"], second["fixed_version_id"]) == (1204, 41)
    assert "uploads" not in second
    assert request_json(calls[12])["integration_fields"][0] == {"name": "id", "value": 1206}
    uploads = upload_calls(mocked_http)
    assert [c.request.body for c in uploads] == [b"\x89PNG-mockup", b"id,total\n", b"a,b\n"]
    assert {c.request.headers["Content-Type"] for c in uploads} == {"application/octet-stream"}
    assert_no_secret(service)


def test_a_feature_in_an_unlinked_release_creates_the_version_first(settings, mocked_http):
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    mock_creation(mocked_http)
    payload = feature_event(release_id=None)
    payload["feature"]["requirements"] = []
    Redmine(settings, payload).receive("create_feature")
    made = requests_made(mocked_http)
    assert made[:2] == [
        ("POST", f"{REDMINE}/projects/7/versions.json"),
        ("POST", fields_url("releases", "ACME-R-3")),
    ]
    assert request_json(mocked_http.calls[0]) == VERSION_BODY
    issue = next(c for c in mocked_http.calls if c.request.url == f"{REDMINE}/issues.json")
    assert request_json(issue)["issue"]["fixed_version_id"] == 58


def test_a_feature_without_a_release_or_priority_sends_neither(settings, mocked_http):
    del settings["issue_priority"]
    mock_creation(mocked_http)
    payload = feature_event()
    del payload["feature"]["release"]
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    Redmine(settings, payload).receive("create_feature")
    assert requests_made(mocked_http) == [
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("features", "ACME-12")),
    ]
    assert set(request_json(mocked_http.calls[0])["issue"]) == {
        "project_id",
        "tracker_id",
        "subject",
        "description",
    }


def test_common_mark_formatting_sends_markdown(settings, mocked_http):
    settings["text_formatting"] = "common_mark"
    mock_creation(mocked_http)
    payload = feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    Redmine(settings, payload).receive("create_feature")
    assert request_json(mocked_http.calls[1])["issue"]["description"] == (
        "Finance teams need to export **all invoices** of a quarter at once. "
        "See [the spec](https://wiki.example.com/export).\n\n"
        "* CSV\n* PDF bundle\n\n"
        "Created from Aha! https://acme.aha.io/features/ACME-12"
    )


def linked_feature_event():
    payload = feature_event()
    link(payload["feature"], "id", "318")
    link(payload["feature"]["requirements"][0], "id", "319")
    return payload


def test_update_feature_updates_linked_issues_and_uploads_only_new_files(settings, mocked_http):
    mocked_http.get(
        f"{REDMINE}/issues/318.json?include=attachments",
        body=raw_fixture("redmine/issue_with_attachments.json"),
    )
    requirement_issue = redmine_fixture("issue_with_attachments.json")
    requirement_issue["issue"]["attachments"][0]["filename"] = "csv-sample.csv"
    mocked_http.get(f"{REDMINE}/issues/319.json?include=attachments", json=requirement_issue)
    mocked_http.put(f"{REDMINE}/issues/318.json", status=204)
    mocked_http.put(f"{REDMINE}/issues/319.json", status=200, json={})
    mock_creation(mocked_http, ids=(1206,))
    service = Redmine(settings, linked_feature_event())
    service.receive("update_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("GET", f"{REDMINE}/issues/318.json?include=attachments"),
        ("GET", COLUMNS),
        ("POST", f"{REDMINE}/uploads.json"),
        ("PUT", f"{REDMINE}/issues/318.json"),
        ("GET", f"{REDMINE}/issues/319.json?include=attachments"),
        ("PUT", f"{REDMINE}/issues/319.json"),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("requirements", "ACME-12-2")),
    ]
    assert_redmine_auth(mocked_http)
    assert request_json(mocked_http.calls[4]) == {
        "issue": {
            "project_id": 7,
            "tracker_id": 2,
            "subject": "Bulk export of invoices",
            "description": FEATURE_TEXTILE,
            "fixed_version_id": 41,
            "uploads": [upload("columns.csv", "text/csv")],
        }
    }
    requirement = request_json(mocked_http.calls[6])["issue"]
    assert (requirement["parent_issue_id"], "uploads" in requirement) == (318, False)
    assert "priority_id" not in requirement
    created = request_json(mocked_http.calls[7])["issue"]
    assert (created["parent_issue_id"], created["priority_id"]) == (318, 3)
    assert_no_secret(service)


def test_create_feature_on_a_linked_feature_updates_instead_of_duplicating(settings, mocked_http):
    payload = linked_feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    mocked_http.get(f"{REDMINE}/issues/318.json?include=attachments", json={"issue": {"id": 318}})
    mocked_http.put(f"{REDMINE}/issues/318.json", status=204)
    Redmine(settings, payload).receive("create_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("GET", f"{REDMINE}/issues/318.json?include=attachments"),
        ("PUT", f"{REDMINE}/issues/318.json"),
    ]


def test_a_linked_issue_that_vanished_is_created_again(settings, mocked_http):
    payload = linked_feature_event()
    payload["feature"]["requirements"] = payload["feature"]["requirements"][:1]
    mocked_http.get(f"{REDMINE}/issues/318.json?include=attachments", status=404, body="")
    mocked_http.get(f"{REDMINE}/issues/319.json?include=attachments", json={"issue": {}})
    mocked_http.put(f"{REDMINE}/issues/319.json", status=404, body="")
    mock_creation(mocked_http, ids=(1300, 1301))
    service = Redmine(settings, payload)
    service.receive("update_feature")
    creations = [c for c in mocked_http.calls if c.request.url == f"{REDMINE}/issues.json"]
    assert len(creations) == 2
    assert request_json(creations[1])["issue"]["parent_issue_id"] == 1300
    links = [request_json(c) for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert [fields["integration_fields"][0]["value"] for fields in links] == [1300, 1301]
    # The new issues hold none of the files yet; 319's file goes again, as its first token
    # belonged to the update that failed.
    assert len(upload_calls(mocked_http)) == 4
    messages = str(service.logger.messages)
    assert "linked issue 318 is gone" in messages and "linked issue 319 is gone" in messages


def test_a_feature_without_a_project_is_refused_before_any_write(settings, mocked_http):
    del settings["project"]
    with pytest.raises(ConfigurationError, match="The Redmine project is not set"):
        Redmine(settings, feature_event(release_id=None)).receive("create_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("tracker", [None, ""])
def test_without_a_tracker_redmine_uses_the_projects_default(settings, mocked_http, tracker):
    settings["tracker"] = tracker
    mock_creation(mocked_http, ids=(1204,))
    payload = feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    Redmine(settings, payload).receive("create_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("features", "ACME-12")),
    ]
    issue = request_json(mocked_http.calls[1])["issue"]
    assert "tracker_id" not in issue
    assert (issue["project_id"], issue["subject"]) == (7, "Bulk export of invoices")


def test_an_issue_refused_by_credentials_is_a_configuration_error(settings, mocked_http):
    mocked_http.post(f"{REDMINE}/issues.json", status=401, body="")
    payload = feature_event()
    payload["feature"]["description"]["attachments"] = []
    service = Redmine(settings, payload)
    with pytest.raises(ConfigurationError) as raised:
        service.receive("create_feature")
    assert str(raised.value) == "Redmine rejected the credentials (401) for POST /issues.json"
    assert_no_secret(service, raised)


def test_a_server_error_stops_the_event_with_a_remote_error(settings, mocked_http):
    mocked_http.post(f"{REDMINE}/issues.json", status=500, body="x" * 700)
    payload = feature_event()
    payload["feature"]["description"]["attachments"] = []
    with pytest.raises(RemoteError) as raised:
        Redmine(settings, payload).receive("create_feature")
    assert str(raised.value) == f"Redmine: POST /issues.json answered HTTP 500: {'x' * 500}..."
    assert requests_made(mocked_http) == [VERSION_CHECK, ("POST", f"{REDMINE}/issues.json")]


def test_files_redmine_or_aha_cannot_hand_over_are_skipped_with_a_warning(settings, mocked_http):
    payload = feature_event()
    payload["feature"]["requirements"] = []
    mocked_http.get(MOCKUP, status=404)
    mocked_http.get(COLUMNS, body=b"id,total\n")
    mocked_http.post(f"{REDMINE}/uploads.json", status=422, json={"errors": ["too large"]})
    mock_creation(mocked_http, ids=(1204,))
    service = Redmine(settings, payload)
    service.receive("create_feature")
    issue = next(c for c in mocked_http.calls if c.request.url == f"{REDMINE}/issues.json")
    assert "uploads" not in request_json(issue)["issue"]
    warnings = [m["message"] for m in service.logger.messages if m["severity"] == 2]
    assert warnings[0].startswith("Attachment mockup.png was not sent to Redmine")
    assert warnings[1] == 'Attachment columns.csv was refused by Redmine: {"errors": ["too large"]}'


def test_a_download_from_a_private_address_is_skipped(settings, mocked_http):
    payload = feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = [
        {
            "file_name": "secret.txt",
            "download_url": "http://169.254.169.254/latest",
            "content_type": "text/plain",
        }
    ]
    mock_creation(mocked_http, ids=(1204,))
    service = Redmine(settings, payload)
    service.receive("create_feature")
    assert requests_made(mocked_http)[:2] == [VERSION_CHECK, ("POST", f"{REDMINE}/issues.json")]
    assert "Attachment secret.txt was not sent to Redmine" in str(service.logger.messages)


def test_an_upload_error_stops_the_event(settings, mocked_http):
    payload = feature_event()
    payload["feature"]["requirements"] = []
    mock_downloads(mocked_http)
    mocked_http.post(f"{REDMINE}/uploads.json", status=503, body="maintenance")
    with pytest.raises(RemoteError, match="POST /uploads.json answered HTTP 503: maintenance"):
        Redmine(settings, payload).receive("create_feature")
    assert not any(c.request.url == f"{REDMINE}/issues.json" for c in mocked_http.calls)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"redmine_url": "http://127.0.0.1:9/"}, InvalidUrlError, "127.0.0.1"),
        ({"redmine_url": "http://redmine.example.com"}, InvalidUrlError, "plain http"),
        ({"api_key": ""}, ConfigurationError, "api_key"),
    ],
)
def test_a_feature_with_files_downloads_nothing_for_an_unusable_redmine(
    settings, mocked_http, changes, error, message
):
    settings.update(changes)
    with pytest.raises(error, match=message):
        Redmine(settings, feature_event()).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_an_answer_without_an_issue_id_is_a_remote_error(settings, mocked_http):
    payload = feature_event()
    payload["feature"]["description"]["attachments"] = []
    mocked_http.post(f"{REDMINE}/issues.json", status=201, json={"issue": {}})
    with pytest.raises(RemoteError, match="without an issue id"):
        Redmine(settings, payload).receive("create_feature")


def test_webhooks_are_ignored(settings, mocked_http):
    service = Redmine(settings, {"issue": {"id": 1}}).receive("webhook")
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1]["message"] == "Redmine ignoring event :webhook"


def test_through_the_proxy_links_are_found_and_the_key_is_redacted(settings, mocked_http):
    client = create_app(load_registry()).test_client()
    collection = client.post(
        "/remote_collection",
        json={
            "service_name": "redmine",
            "field_name": "project",
            "meta_data": {"projects": [{"id": 7, "name": "payments"}, {"id": 3, "name": "Audit"}]},
            "user_data": settings,
        },
    )
    assert collection.get_json() == [["Audit", 3], ["payments", 7]]

    payload = linked_feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    mocked_http.get(f"{REDMINE}/issues/318.json?include=attachments", json={"issue": {}})
    mocked_http.put(f"{REDMINE}/issues/318.json", status=500, body=f"echo {API_KEY}")
    answer = client.post(
        "/send_event",
        data=json.dumps(
            {
                "service_name": "redmine",
                "event": "update_feature",
                "user_data": settings,
                "payload": payload,
                "meta_data": {},
            }
        ),
        content_type="application/json",
    ).get_json()
    assert answer["exception"]["exception_class"].endswith("RemoteError")
    assert "PUT /issues/318.json answered HTTP 500" in answer["exception"]["message"]
    assert API_KEY not in json.dumps(answer)


# --- gone records, field limits, records without a URL --------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_feature_whose_linked_version_is_gone_gets_a_new_version(settings, mocked_http, status):
    mocked_http.replace("GET", f"{REDMINE}/versions/41.json", status=status, body="")
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    mock_creation(mocked_http, ids=(1204,))
    payload = feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    service = Redmine(settings, payload)
    service.receive("create_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("POST", f"{REDMINE}/projects/7/versions.json"),
        ("POST", fields_url("releases", "ACME-R-3")),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("features", "ACME-12")),
    ]
    assert_redmine_auth(mocked_http)
    assert request_json(mocked_http.calls[1]) == VERSION_BODY
    assert request_json(mocked_http.calls[3])["issue"]["fixed_version_id"] == 58
    assert "The linked version 41 is gone from Redmine" in str(service.logger.messages)


def test_a_linked_issue_answering_410_is_created_again(settings, mocked_http):
    payload = linked_feature_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    mocked_http.get(f"{REDMINE}/issues/318.json?include=attachments", status=410, body="")
    mock_creation(mocked_http, ids=(1310,))
    Redmine(settings, payload).receive("update_feature")
    assert requests_made(mocked_http) == [
        VERSION_CHECK,
        ("GET", f"{REDMINE}/issues/318.json?include=attachments"),
        ("POST", f"{REDMINE}/issues.json"),
        ("POST", fields_url("features", "ACME-12")),
    ]


def test_subjects_and_version_names_longer_than_redmine_takes_are_cut(settings, mocked_http):
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    mock_creation(mocked_http, ids=(1204,))
    payload = feature_event(release_id=None)
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    payload["feature"]["name"] = "Invoices " * 40
    payload["feature"]["release"]["name"] = "Winter launch " * 10
    payload["feature"]["release"]["url"] = "https://acme.aha.io/releases/" + "R" * 300
    Redmine(settings, payload).receive("create_feature")
    version = request_json(mocked_http.calls[0])["version"]
    assert version["name"] == ("Winter launch " * 10)[:59] + "…"
    assert len(version["description"]) <= 255 and version["description"].endswith("…")
    subject = request_json(mocked_http.calls[2])["issue"]["subject"]
    assert len(subject) == 255 and subject.endswith("…")
    assert Redmine.field_limits == {"subject": 255, "version_name": 60, "version_description": 255}


def test_a_release_without_a_url_makes_a_version_without_a_created_from_line(settings, mocked_http):
    mocked_http.post(
        f"{REDMINE}/projects/7/versions.json",
        status=201,
        body=raw_fixture("redmine/version_created.json"),
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    payload = json_fixture("create_release_event.json")
    del payload["release"]["url"]
    Redmine(settings, payload).receive("create_release")
    assert request_json(mocked_http.calls[0]) == {
        "version": {"name": "Winter launch", "due_date": "2026-12-18", "description": ""}
    }
