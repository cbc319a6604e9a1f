"""Jira project data read page by page, versions, and the events around them."""

import copy

import pytest

from services.core import ConfigurationError, RemoteError
from services.jira import Jira, project_data
from services.jira.project_data import ProjectData
from services.jira.versions import Versions
from spec.conftest import json_fixture, raw_fixture, request_json
from spec.services.test_jira import (
    API,
    BASIC,
    JIRA_SETTINGS,
    SUBTASK,
    assert_jira_auth,
    fields_url,
    link,
    loaded_meta_data,
    mock_common_reads,
)


@pytest.fixture
def settings(user_data):
    return {**user_data, **JIRA_SETTINGS, "send_tags": "0"}


def made(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


# --- project data ------------------------------------------------------------------------------


def test_a_project_missing_from_loaded_data_is_named_before_any_request(settings, mocked_http):
    meta = loaded_meta_data()
    meta["projects"] = [{"id": "10001", "key": "WEB", "name": "website"}]
    with pytest.raises(ConfigurationError, match=r"The Jira project PAY \(project\) was not found"):
        ProjectData(Jira(settings, {}, meta)).ensure_project()
    assert len(mocked_http.calls) == 0


def test_types_are_found_by_project_key_whatever_its_case(settings):
    meta = loaded_meta_data()
    meta["issue_types"] = {"WEB": [], **meta["issue_types"]}
    data = ProjectData(Jira(settings, {}, meta))
    assert [t["id"] for t in data.types_of("pay")] == ["10001", "10000", SUBTASK]
    assert data.types_of("MOB") is None


def test_a_page_that_vanishes_midway_is_an_error_not_an_old_server(settings, mocked_http):
    mocked_http.get(f"{API}/field", body=raw_fixture("jira/fields.json"))
    mocked_http.get(f"{API}/project/search?startAt=0", body=raw_fixture("jira/projects_page1.json"))
    mocked_http.get(f"{API}/project/search?startAt=2", status=404, json={"errorMessages": []})
    with pytest.raises(RemoteError, match="GET /project/search"):
        Jira(settings, {}, {}).receive("installed")
    assert ("GET", f"{API}/project") not in made(mocked_http)


def test_paging_stops_after_its_limit_with_a_warning(settings, mocked_http, monkeypatch):
    monkeypatch.setattr(project_data, "MAX_PAGES", 2)
    page = {"maxResults": 1, "isLast": False, "values": [{"id": "1", "key": "A", "name": "A"}]}
    mocked_http.get(f"{API}/project/search?startAt=0", json=page)
    mocked_http.get(f"{API}/project/search?startAt=1", json=page)
    service = Jira(settings, {}, {})
    assert len(ProjectData(service).projects()) == 2
    assert "Stopped reading /project/search after 2 pages" in str(service.logger.messages)
    assert made(mocked_http) == [
        ("GET", f"{API}/project/search?startAt=0"),
        ("GET", f"{API}/project/search?startAt=1"),
    ]
    assert_jira_auth(mocked_http)


def test_configured_for_another_field_reads_nothing(settings, mocked_http):
    service = Jira(settings, {"field": "feature_issue_type"}, loaded_meta_data())
    service.receive("configured")
    assert len(mocked_http.calls) == 0
    assert "Nothing to do when feature_issue_type is configured" in str(service.logger.messages)


def test_configured_for_the_project_loads_its_types(settings, mocked_http):
    mock_common_reads(mocked_http)
    meta = f"{API}/issue/createmeta/PAY/issuetypes"
    mocked_http.get(
        f"{meta}?startAt=0", json={"isLast": True, "values": [{"id": SUBTASK, "name": "Sub-task"}]}
    )
    mocked_http.get(f"{meta}/{SUBTASK}?startAt=0", body=raw_fixture("jira/createmeta_subtask.json"))
    mocked_http.get(f"{API}/project/PAY/statuses", json=[])
    service = Jira(settings, {"field": "attribute_project"}, {})
    service.receive("configured")
    answer = service.meta_data_to_return()
    assert answer["configuration"]["attribute_project"] == {
        "project": "PAY",
        "message": "Loaded configuration for project PAY",
        "success": True,
    }
    assert answer["issue_types"]["PAY"][0]["statuses"] == []
    assert all(method == "GET" for method, _ in made(mocked_http))


# --- versions ----------------------------------------------------------------------------------


def release(**fields):
    record = copy.deepcopy(json_fixture("create_release_event.json"))["release"]
    record.update(fields)
    return record


def test_the_project_versions_are_read_once_per_event(settings, mocked_http):
    mocked_http.get(f"{API}/project/PAY/versions", body=raw_fixture("jira/project_versions.json"))
    versions = Versions(Jira(settings, {}, loaded_meta_data()), {"key": "PAY"})
    assert versions.by_name(release())["id"] == "10401"
    assert versions.by_name(release(name="winter LAUNCH"))["id"] == "10401"
    assert versions.by_name(release(name="Spring")) is None
    assert len(mocked_http.calls) == 1


def test_a_release_with_released_null_is_sent_as_not_released(settings, mocked_http):
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.post(f"{API}/version", status=201, json={"id": "10402", "name": "Winter launch"})
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    payload = {"release": release(released=None, release_date=None, url=None)}
    Jira(settings, payload, loaded_meta_data()).receive("create_release")
    post = next(c for c in mocked_http.calls if c.request.url == f"{API}/version")
    assert request_json(post) == {
        "name": "Winter launch",
        "releaseDate": None,
        "released": False,
        "description": "",
        "project": "PAY",
    }
    assert post.request.headers["Authorization"] == BASIC


@pytest.mark.parametrize(
    ("status", "answer", "said"),
    [
        (400, {"errors": {"name": "Name is too odd"}}, "POST /version: name: Name is too odd"),
        (201, {"self": f"{API}/version/x"}, "POST /version without a version id"),
    ],
)
def test_a_version_jira_does_not_create_fails_the_event(
    settings, mocked_http, status, answer, said
):
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.post(f"{API}/version", status=status, json=answer)
    with pytest.raises(RemoteError, match=said):
        Jira(settings, {"release": release()}, loaded_meta_data()).receive("create_release")
    assert made(mocked_http) == [
        ("GET", f"{API}/project/PAY/versions"),
        ("POST", f"{API}/version"),
    ]


def test_a_linked_version_jira_has_is_reused(settings, mocked_http):
    payload = {"release": release()}
    link(payload["release"], id="10400")
    mocked_http.get(f"{API}/version/10400", json={"id": "10400", "name": "Winter launch"})
    Jira(settings, payload, loaded_meta_data()).receive("create_release")
    assert made(mocked_http) == [("GET", f"{API}/version/10400")]
    assert mocked_http.calls[0].request.headers["Authorization"] == BASIC


# --- requirements ------------------------------------------------------------------------------


def test_update_requirement_puts_the_linked_sub_task_without_moving_it(settings, mocked_http):
    settings["dont_send_releases"] = "1"
    feature = copy.deepcopy(json_fixture("create_feature_event.json"))["feature"]
    requirement = feature.pop("requirements")[0]
    requirement["description"]["attachments"] = []
    link(feature, id="10234", key="PAY-17")
    link(requirement, id="10235", key="PAY-18")
    requirement["feature"] = feature
    mocked_http.get(f"{API}/issue/10235/editmeta", body=raw_fixture("jira/editmeta.json"))
    mocked_http.put(f"{API}/issue/10235", status=204)
    mocked_http.get(f"{API}/issue/10235?fields=attachment", json={"fields": {"attachment": []}})
    Jira(settings, {"requirement": requirement}, loaded_meta_data()).receive("update_requirement")
    assert made(mocked_http) == [
        ("GET", f"{API}/issue/10235/editmeta"),
        ("PUT", f"{API}/issue/10235"),
    ]
    assert request_json(mocked_http.calls[1]) == {
        "fields": {
            "summary": "Export as CSV",
            "description": "One row per invoice line. Columns as in the attachment.",
            "customfield_10050": "https://acme.aha.io/requirements/ACME-12-1",
        }
    }
    assert_jira_auth(mocked_http)
