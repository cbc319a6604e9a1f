import base64
import copy
import json

import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.jira import Jira
from services.jira.project_data import ProjectData
from spec.conftest import json_fixture, raw_fixture, request_json

JIRA = "https://acme.atlassian.net"
API = f"{JIRA}/rest/api/2"
AHA = "https://acme.aha.io/api/v1"
USERNAME = "maya.okafor@example.com"
TOKEN = "ATATT3xFfGF0-jira-token-5d1c"
BASIC = "Basic " + base64.b64encode(f"{USERNAME}:{TOKEN}".encode()).decode()
STORY, EPIC, SUBTASK = "10001", "10000", "10003"
CDN = "https://cdn.aha.io/attachments"


def jira_fixture(name):
    return json_fixture(f"jira/{name}")


def story_fields():
    page1 = jira_fixture("createmeta_story_page1.json")["values"]
    page2 = jira_fixture("createmeta_story_page2.json")["values"]
    return [f["fieldId"] for f in page1 + page2]


def loaded_meta_data():
    """meta_data as ``installed`` leaves it for project PAY."""
    fields = {
        f["id"]: {
            "name": f["name"],
            "type": f["schema"].get("type"),
            "items": f["schema"].get("items"),
            "custom": f["schema"].get("custom"),
        }
        for f in jira_fixture("fields.json")
    }
    epic_fields = [f["fieldId"] for f in jira_fixture("createmeta_epic_cloud.json")["fields"]]
    sub_fields = [f["fieldId"] for f in jira_fixture("createmeta_subtask.json")["values"]]
    return {
        "projects": [{"id": "10000", "key": "PAY", "name": "Payments"}],
        "fields": fields,
        "resolutions": [],
        "epic_name_field": "customfield_10011",
        "epic_link_field": "customfield_10014",
        "story_points_field": "customfield_10016",
        "aha_reference_field": "customfield_10050",
        "aha_position_field": None,
        "issue_types": {
            "PAY": [
                {
                    "id": STORY,
                    "name": "Story",
                    "subtask": False,
                    "fields": story_fields(),
                    "statuses": [],
                },
                {
                    "id": EPIC,
                    "name": "Epic",
                    "subtask": False,
                    "fields": epic_fields,
                    "statuses": [],
                },
                {
                    "id": SUBTASK,
                    "name": "Sub-task",
                    "subtask": True,
                    "fields": sub_fields,
                    "statuses": [],
                },
            ]
        },
    }


JIRA_SETTINGS = {
    "server_url": f"{JIRA}/",
    "username": USERNAME,
    "password": TOKEN,
    "project": "PAY",
    "feature_issue_type": STORY,
    "requirement_issue_type": SUBTASK,
    "send_tags": "1",
}


@pytest.fixture
def settings(user_data):
    return {**user_data, **JIRA_SETTINGS}


def service_for(settings, payload=None, meta_data=None, cls=Jira):
    return cls(settings, payload or {}, meta_data if meta_data is not None else loaded_meta_data())


def link(record, **fields):
    record["integration_fields"] = [
        {"name": name, "value": value, "integration_id": 4242, "service_name": "jira"}
        for name, value in fields.items()
    ]


def fields_url(kind, reference):
    return f"{AHA}/{kind}/{reference}/integrations/4242/fields"


def jira_calls(mocked_http):
    return [c for c in mocked_http.calls if c.request.url.startswith(JIRA)]


def assert_jira_auth(mocked_http, expected=BASIC):
    for call in mocked_http.calls:
        if call.request.url.startswith(JIRA):
            assert call.request.headers["Authorization"] == expected
        elif call.request.url.startswith(AHA):
            assert call.request.headers["Authorization"].startswith("Bearer ")
        else:  # downloads of attachments carry no credentials
            assert "Authorization" not in call.request.headers


def assert_no_secret(service, error=None):
    assert TOKEN not in str(service.logger.messages)
    if error is not None:
        assert TOKEN not in str(error.value)


def made(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


# --- schema and collections -----------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (Jira.service_name, Jira.title) == ("jira", "Jira")
    assert [(f.type, f.name) for f in Jira.schema] == [
        ("string", "server_url"),
        ("string", "username"),
        ("password", "password"),
        ("install_button", "install_button"),
        ("select", "project"),
        ("boolean", "send_initiatives"),
        ("select", "feature_issue_type"),
        ("select", "requirement_issue_type"),
        ("internal", "feature_status_mapping"),
        ("internal", "requirement_status_mapping"),
        ("internal", "field_mapping"),
        ("internal", "requirement_field_mapping"),
        ("boolean", "send_tags"),
        ("boolean", "dont_send_releases"),
        ("callback_url", "callback_url"),
    ]
    assert Jira.field_by_name("project").options["configure_button"] == "Load project data"


def test_collections_list_projects_by_name_and_types_in_jira_order():
    meta_data = loaded_meta_data()
    meta_data["projects"] += [{"id": "10001", "key": "WEB", "name": "website"}]

    def collection(name, data):
        return Jira.field_by_name(name).remote_collection(meta_data, data)

    assert collection("project", {}) == [["Payments", "PAY"], ["website", "WEB"]]
    assert collection("feature_issue_type", {"project": "pay"}) == [
        ["Story", STORY],
        ["Epic", EPIC],
    ]
    assert collection("requirement_issue_type", {"project": "PAY"}) == [
        ["Story", STORY],
        ["Epic", EPIC],
        ["Sub-task", SUBTASK],
    ]


@pytest.mark.parametrize("name", ["project", "feature_issue_type", "requirement_issue_type"])
def test_collections_of_unloaded_data_are_empty(name):
    assert Jira.field_by_name(name).remote_collection({}, {}) == []
    assert Jira.field_by_name(name).remote_collection({}, {"project": "PAY"}) == []


# --- connection -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "named"),
    [("server_url", "server_url"), ("username", "username"), ("password", "password")],
)
def test_missing_connection_settings_fail_before_any_request(settings, mocked_http, missing, named):
    settings[missing] = ""
    with pytest.raises(ConfigurationError, match=named):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("url", ["acme.atlassian.net", "ftp://acme.atlassian.net", "jira"])
def test_a_server_url_that_is_not_http_is_refused(settings, mocked_http, url):
    settings["server_url"] = url
    with pytest.raises(ConfigurationError, match="server_url"):
        service_for(settings, json_fixture("create_feature_event.json")).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_a_loopback_server_is_refused_before_anything_is_sent(settings, mocked_http):
    settings["server_url"] = "https://127.0.0.1:8080"
    with pytest.raises(InvalidUrlError):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_credentials_are_never_sent_over_plain_http(settings, mocked_http):
    settings["server_url"] = "http://jira.example.com"
    with pytest.raises(InvalidUrlError, match="plain http"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


# --- errors ---------------------------------------------------------------------------------


def test_401_is_a_configuration_error(settings, mocked_http):
    mocked_http.get(f"{API}/field", status=401, body="Unauthorized")
    service = service_for(settings)
    with pytest.raises(ConfigurationError, match=r"Jira rejected the credentials \(401\)") as error:
        service.receive("installed")
    assert_jira_auth(mocked_http)
    assert_no_secret(service, error)


def test_a_captcha_lockout_is_a_configuration_error_quoting_jira_and_never_retried(
    settings, mocked_http, slept
):
    mocked_http.get(
        f"{API}/field",
        status=403,
        headers={
            "X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=https://acme.atlassian.net/login"
        },
    )
    with pytest.raises(ConfigurationError, match="CAPTCHA_CHALLENGE"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 1
    assert slept == []


def test_another_403_names_the_permission_the_call_needs(settings, mocked_http):
    mocked_http.get(f"{API}/field", status=403, json={"errorMessages": ["Forbidden"]})
    with pytest.raises(RemoteError, match="Browse projects permission"):
        service_for(settings).receive("installed")


def test_a_refused_login_served_as_anonymous_is_the_credentials_error(settings, mocked_http):
    mocked_http.get(
        f"{API}/field",
        json=[],
        headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED", "X-AUSERNAME": "anonymous"},
    )
    with pytest.raises(ConfigurationError, match="rejected the credentials"):
        service_for(settings).receive("installed")


def test_a_500_is_a_remote_error_with_method_path_status_and_body_without_secrets(
    settings, mocked_http
):
    mocked_http.get(f"{API}/field", status=500, body=f"Internal error for {TOKEN} " + "x" * 900)
    service = service_for(settings)
    with pytest.raises(RemoteError, match=r"GET /field answered HTTP 500") as error:
        service.receive("installed")
    assert len(str(error.value)) < 700
    assert_no_secret(service, error)


def test_rate_limits_are_waited_out_until_jiras_iso_reset(settings, mocked_http, slept):
    mocked_http.get(
        f"{API}/field",
        status=429,
        headers={"X-RateLimit-Reset": "2099-01-01T00:00:30Z", "Retry-After": "3"},
    )
    mocked_http.get(f"{API}/field", status=500, body="stop")
    with pytest.raises(RemoteError, match="HTTP 500"):
        service_for(settings).receive("installed")
    assert slept and slept[0] > 0


# --- installed ------------------------------------------------------------------------------


def mock_common_reads(mocked_http):
    mocked_http.get(f"{API}/field", body=raw_fixture("jira/fields.json"))
    mocked_http.get(f"{API}/project/search?startAt=0", body=raw_fixture("jira/projects_page1.json"))
    mocked_http.get(f"{API}/project/search?startAt=2", body=raw_fixture("jira/projects_page2.json"))
    mocked_http.get(f"{API}/resolution", body=raw_fixture("jira/resolutions.json"))


def test_installed_reads_fields_projects_resolutions_and_the_projects_types(settings, mocked_http):
    mock_common_reads(mocked_http)
    meta = f"{API}/issue/createmeta/PAY/issuetypes"
    mocked_http.get(f"{meta}?startAt=0", body=raw_fixture("jira/createmeta_issuetypes_cloud.json"))
    mocked_http.get(
        f"{meta}/{STORY}?startAt=0", body=raw_fixture("jira/createmeta_story_page1.json")
    )
    mocked_http.get(
        f"{meta}/{STORY}?startAt=8", body=raw_fixture("jira/createmeta_story_page2.json")
    )
    mocked_http.get(f"{meta}/{EPIC}?startAt=0", body=raw_fixture("jira/createmeta_epic_cloud.json"))
    mocked_http.get(f"{meta}/{SUBTASK}?startAt=0", body=raw_fixture("jira/createmeta_subtask.json"))
    mocked_http.get(f"{API}/project/PAY/statuses", body=raw_fixture("jira/project_statuses.json"))
    kept = {"issue_types": {"MOB": [{"id": "1", "name": "Bug"}]}}
    service = service_for(settings, meta_data=kept)
    service.receive("installed")

    meta_data = service.meta_data_to_return()
    assert meta_data["projects"] == [
        {"id": "10000", "key": "PAY", "name": "Payments"},
        {"id": "10001", "key": "WEB", "name": "website"},
        {"id": "10002", "key": "MOB", "name": "Mobile app"},
    ]
    assert meta_data["resolutions"] == [
        {"id": "10000", "name": "Done"},
        {"id": "10001", "name": "Won't Do"},
    ]
    assert meta_data["fields"]["customfield_10060"] == {
        "name": "Customer tier",
        "type": "option",
        "items": None,
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
    }
    assert (
        meta_data["epic_name_field"],
        meta_data["epic_link_field"],
        meta_data["story_points_field"],
        meta_data["aha_reference_field"],
        meta_data["aha_position_field"],
    ) == ("customfield_10011", "customfield_10014", "customfield_10016", "customfield_10050", None)
    types = meta_data["issue_types"]["PAY"]
    assert [(t["id"], t["name"], t["subtask"]) for t in types] == [
        (STORY, "Story", False),
        (EPIC, "Epic", False),
        (SUBTASK, "Sub-task", True),
    ]
    assert types[0]["fields"] == story_fields()
    assert "customfield_10011" in types[1]["fields"]
    assert types[0]["statuses"] == [
        {"id": "10000", "name": "To Do"},
        {"id": "3", "name": "In Progress"},
        {"id": "10001", "name": "Done"},
    ]
    assert meta_data["issue_types"]["MOB"] == [{"id": "1", "name": "Bug"}]
    assert all(c.request.method == "GET" for c in mocked_http.calls)
    assert_jira_auth(mocked_http)


def test_installed_on_an_old_server_uses_its_older_apis(settings, mocked_http):
    server = "https://jira.example.com/jira"
    settings["server_url"] = server + "/"
    api = f"{server}/rest/api/2"
    mocked_http.get(f"{api}/field", body=raw_fixture("jira/fields.json"))
    mocked_http.get(f"{api}/project/search?startAt=0", status=404)
    mocked_http.get(f"{api}/project", body=raw_fixture("jira/projects_server.json"))
    mocked_http.get(f"{api}/resolution", body="[]")
    mocked_http.get(f"{api}/issue/createmeta/PAY/issuetypes?startAt=0", status=404)
    mocked_http.get(
        f"{api}/issue/createmeta?projectKeys=PAY&expand=projects.issuetypes.fields",
        body=raw_fixture("jira/createmeta_expanded.json"),
    )
    mocked_http.get(f"{api}/project/PAY/statuses", status=404)
    mocked_http.get(f"{api}/status", body=raw_fixture("jira/statuses_all.json"))
    service = service_for(settings, meta_data={})
    service.receive("installed")
    types = service.meta_data_to_return()["issue_types"]["PAY"]
    assert [(t["name"], t["subtask"]) for t in types] == [("Story", False), ("Sub-task", True)]
    assert "customfield_10014" in types[0]["fields"]
    assert "parent" in types[1]["fields"]
    assert types[1]["statuses"] == [
        {"id": "1", "name": "Open"},
        {"id": "3", "name": "In Progress"},
        {"id": "6", "name": "Closed"},
    ]
    assert all(c.request.url.startswith(server) for c in mocked_http.calls)


def test_installed_names_an_unknown_project(settings, mocked_http):
    settings["project"] = "NOPE"
    mock_common_reads(mocked_http)
    with pytest.raises(ConfigurationError, match="NOPE"):
        service_for(settings, meta_data={}).receive("installed")


def test_configured_loads_the_project_and_says_so(settings, mocked_http):
    settings["project"] = ""
    mock_common_reads(mocked_http)
    service = service_for(settings, {"field": "attribute_project"}, meta_data={})
    service.receive("configured")
    answer = service.meta_data_to_return()
    assert answer["configuration"]["attribute_project"]["success"] is True
    assert len(answer["projects"]) == 3


# --- features and requirements ----------------------------------------------------------------


def feature_payload(*, version_id="41", requirements=True):
    payload = copy.deepcopy(json_fixture("create_feature_event.json"))
    feature = payload["feature"]
    link(feature["release"], id=version_id) if version_id else link(feature["release"])
    if not requirements:
        feature["requirements"] = []
    return payload


def mock_downloads(mocked_http):
    mocked_http.get(f"{CDN}/0001/mockup.png?1699999001", body=b"\x89PNG", content_type="image/png")
    mocked_http.get(f"{CDN}/0002/columns.csv?1699999002", body=b"id,total\n")
    mocked_http.get(f"{CDN}/0003/csv-sample.csv?1699999003", body=b"a,b\n")


def mock_aha_writes(mocked_http):
    for reference in ("ACME-12", "ACME-12-1", "ACME-12-2"):
        kind = "requirements" if reference.count("-") == 2 else "features"
        mocked_http.post(fields_url(kind, reference), json={})
        mocked_http.get(f"{AHA}/{kind}/{reference}/integrations/4242/adjacent_fields", json={})


def test_create_feature_creates_the_issue_and_its_sub_tasks_in_the_linked_version(
    settings, mocked_http
):
    mocked_http.get(f"{API}/version/41", json={"id": "41", "name": "Winter launch"})
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    created = iter([("10234", "PAY-17"), ("10235", "PAY-18"), ("10236", "PAY-19")])

    def create_issue(request):
        issue_id, key = next(created)
        return 201, {}, json.dumps({"id": issue_id, "key": key, "self": f"{API}/issue/{issue_id}"})

    mocked_http.add_callback("POST", f"{API}/issue", callback=create_issue)
    for issue_id in ("10234", "10235", "10236"):
        mocked_http.post(f"{API}/issue/{issue_id}/attachments", json=[{"id": "1"}])
    mock_downloads(mocked_http)
    mock_aha_writes(mocked_http)
    service = service_for(settings, feature_payload())
    service.receive("create_feature")

    creates = [c for c in mocked_http.calls if c.request.url == f"{API}/issue"]
    feature = request_json(creates[0])["fields"]
    assert feature["project"] == {"key": "PAY"}
    assert feature["issuetype"] == {"id": STORY}
    assert feature["summary"] == "Bulk export of invoices"
    assert feature["fixVersions"] == [{"id": "41"}]
    assert feature["labels"] == ["finance", "export"]
    assert feature["duedate"] == "2026-12-10"
    assert feature["customfield_10050"] == "https://acme.aha.io/features/ACME-12"
    assert feature["assignee"] == {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
    assert feature["reporter"] == {"accountId": "5b10ac8d82e05b22cc7d4ef5"}
    assert "customfield_10011" not in feature  # a Story has no epic name
    assert "Finance teams need to export" in feature["description"]
    requirement = request_json(creates[1])["fields"]
    assert requirement["issuetype"] == {"id": SUBTASK}
    assert requirement["parent"] == {"key": "PAY-17"}
    assert "fixVersions" not in requirement  # the sub-task screen has none
    links = [c for c in mocked_http.calls if c.request.url == fields_url("features", "ACME-12")]
    assert request_json(links[0]) == {
        "integration_fields": [
            {"name": "id", "value": "10234"},
            {"name": "key", "value": "PAY-17"},
            {"name": "url", "value": f"{JIRA}/browse/PAY-17"},
        ]
    }
    uploads = [c for c in mocked_http.calls if c.request.url.endswith("/attachments")]
    assert [c.request.url for c in uploads] == [
        f"{API}/issue/10234/attachments",
        f"{API}/issue/10234/attachments",
        f"{API}/issue/10235/attachments",
    ]
    assert all(c.request.headers["X-Atlassian-Token"] == "no-check" for c in uploads)
    assert b'name="file"; filename="mockup.png"' in uploads[0].request.body
    # Only one user picker call: the answer is kept for the event.
    assert sum("/user/picker" in c.request.url for c in mocked_http.calls) == 1
    assert_jira_auth(mocked_http)


def test_requirements_of_an_epic_become_its_children_or_related_issues(settings, mocked_http):
    settings["feature_issue_type"] = EPIC
    settings["requirement_issue_type"] = STORY
    mocked_http.get(f"{API}/version/41", json={"id": "41"})
    mocked_http.get(f"{API}/user/picker?query=maya.okafor%40example.com", json={"users": []})
    mocked_http.get(f"{API}/user/picker?query=Maya+Okafor", json={"users": []})
    created = iter([("10234", "PAY-17"), ("10235", "PAY-18"), ("10236", "PAY-19")])
    mocked_http.add_callback(
        "POST",
        f"{API}/issue",
        callback=lambda request: (
            201,
            {},
            json.dumps(dict(zip(("id", "key"), next(created), strict=True))),
        ),
    )
    mocked_http.post(f"{API}/issue/10234/attachments", json=[])
    mocked_http.post(f"{API}/issue/10235/attachments", json=[])
    mock_downloads(mocked_http)
    mock_aha_writes(mocked_http)
    service_for(settings, feature_payload()).receive("create_feature")
    creates = [
        request_json(c)["fields"] for c in mocked_http.calls if c.request.url == f"{API}/issue"
    ]
    assert creates[0]["customfield_10011"] == "Bulk export of invoices"
    assert creates[1]["customfield_10014"] == "PAY-17"  # the Server epic link field
    assert "assignee" not in creates[0]


def test_a_requirement_of_a_plain_story_is_related_by_an_issue_link(settings, mocked_http):
    settings["requirement_issue_type"] = STORY
    payload = {"requirement": copy.deepcopy(feature_payload()["feature"]["requirements"][0])}
    payload["requirement"]["feature"] = feature_payload(version_id=None)["feature"]
    link(payload["requirement"]["feature"], id="10234", key="PAY-17")
    payload["requirement"]["feature"]["release"] = {}
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10235", "key": "PAY-18"})
    mocked_http.post(f"{API}/issueLink", status=201)
    mocked_http.post(f"{API}/issue/10235/attachments", json=[])
    mock_downloads(mocked_http)
    mock_aha_writes(mocked_http)
    service_for(settings, payload).receive("create_requirement")
    issue_link = next(c for c in mocked_http.calls if c.request.url == f"{API}/issueLink")
    assert request_json(issue_link) == {
        "type": {"name": "Relates"},
        "inwardIssue": {"id": "10234"},
        "outwardIssue": {"id": "10235"},
    }
    create = next(c for c in mocked_http.calls if c.request.url == f"{API}/issue")
    assert "parent" not in request_json(create)["fields"]


def test_update_feature_sends_only_what_the_edit_screen_takes(settings, mocked_http):
    payload = feature_payload(requirements=False)
    link(payload["feature"], id="10234", key="PAY-17")
    mocked_http.get(f"{API}/version/41", json={"id": "41"})
    mocked_http.get(f"{API}/issue/10234/editmeta", body=raw_fixture("jira/editmeta.json"))
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    mocked_http.put(f"{API}/issue/10234", status=204)
    mocked_http.get(
        f"{API}/issue/10234?fields=attachment", body=raw_fixture("jira/issue_attachments.json")
    )
    mocked_http.post(f"{API}/issue/10234/attachments", json=[])
    mock_downloads(mocked_http)
    service_for(settings, payload).receive("update_feature")
    put = next(c for c in mocked_http.calls if c.request.method == "PUT")
    body = request_json(put)
    assert body["update"] == {"fixVersions": [{"set": [{"id": "41"}]}]}
    assert "reporter" not in body["fields"] and "fixVersions" not in body["fields"]
    assert "project" not in body["fields"] and "issuetype" not in body["fields"]
    assert body["fields"]["summary"] == "Bulk export of invoices"
    uploads = [c.request.body for c in mocked_http.calls if c.request.url.endswith("/attachments")]
    assert len(uploads) == 1 and b'filename="columns.csv"' in uploads[0]
    assert not any(c.request.url.startswith(AHA) for c in mocked_http.calls)


def test_a_deleted_issue_is_created_again_and_relinked(settings, mocked_http):
    payload = feature_payload(requirements=False)
    link(payload["feature"], id="10200", key="PAY-9")
    payload["feature"]["description"]["attachments"] = []
    mocked_http.get(f"{API}/version/41", json={"id": "41"})
    mocked_http.get(
        f"{API}/issue/10200/editmeta", status=404, json={"errorMessages": ["Issue does not exist"]}
    )
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    mocked_http.post(f"{API}/issue", status=201, body=raw_fixture("jira/issue_created.json"))
    mock_aha_writes(mocked_http)
    service = service_for(settings, payload)
    service.receive("update_feature")
    relink = next(
        c for c in mocked_http.calls if c.request.url == fields_url("features", "ACME-12")
    )
    assert {"name": "key", "value": "PAY-17"} in request_json(relink)["integration_fields"]
    assert "gone" in str(service.logger.messages)


def test_an_update_the_workflow_refuses_is_a_warning(settings, mocked_http):
    payload = feature_payload(requirements=False)
    link(payload["feature"], id="10234", key="PAY-17")
    mocked_http.get(f"{API}/version/41", json={"id": "41"})
    mocked_http.get(f"{API}/issue/10234/editmeta", json={"fields": {"summary": {}}})
    mocked_http.put(
        f"{API}/issue/10234", status=400, body=raw_fixture("jira/error_400_no_edit.json")
    )
    service = service_for(settings, payload)
    service.receive("update_feature")
    assert "PAY-17" in str(service.logger.messages)


def test_a_400_names_jira_fields_and_the_aha_field_of_a_refused_option(settings, mocked_http):
    settings["field_mapping"] = [{"aha_field": "tier", "jira_field": "customfield_10060"}]
    settings["dont_send_releases"] = "1"
    payload = feature_payload(requirements=False)
    payload["feature"]["custom_fields"] = [{"key": "tier", "name": "Tier", "value": "Platinum"}]
    mocked_http.get(
        f"{API}/user/picker?query=maya.okafor%40example.com",
        body=raw_fixture("jira/user_picker.json"),
    )
    mocked_http.post(f"{API}/issue", status=400, body=raw_fixture("jira/error_400_fields.json"))
    with pytest.raises(RemoteError) as error:
        service_for(settings, payload).receive("create_feature")
    message = str(error.value)
    assert message.startswith("Jira did not accept POST /issue: ")
    assert "Customer tier: Option value 'Platinum' is not valid" in message
    assert "Aha! field tier" in message
    assert "Summary: You must specify a summary" in message
    create = next(c for c in mocked_http.calls if c.request.url == f"{API}/issue")
    assert request_json(create)["fields"]["customfield_10060"] == {"value": "Platinum"}
    assert "fixVersions" not in request_json(create)["fields"]


def test_long_names_and_labels_are_cut_and_spaces_in_labels_become_underscores(
    settings, mocked_http
):
    settings["dont_send_releases"] = "1"
    payload = feature_payload(requirements=False)
    feature = payload["feature"]
    feature["name"] = "N" * 300
    feature["tags"] = ["quarter end", "L" * 300]
    feature["description"]["body"] = "<p>" + "word " * 8000 + "</p>"
    feature["description"]["attachments"] = []
    feature["assigned_to_user"] = None
    feature["created_by_user"] = None
    mocked_http.post(f"{API}/issue", status=201, body=raw_fixture("jira/issue_created.json"))
    mock_aha_writes(mocked_http)
    service_for(settings, payload).receive("create_feature")
    fields = request_json(next(c for c in mocked_http.calls if c.request.url == f"{API}/issue"))[
        "fields"
    ]
    assert len(fields["summary"]) == 255 and fields["summary"].endswith("…")
    assert fields["labels"][0] == "quarter_end" and len(fields["labels"][1]) == 255
    assert len(fields["description"]) <= 32767
    assert fields["description"].endswith(
        "(truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)"
    )


def test_estimates_in_minutes_and_points(settings):
    from services.jira.fields import estimate_fields

    takes = {"timetracking", "customfield_10016"}
    minutes = {"original_estimate": 90, "remaining_estimate": 30, "work_units": 10}
    assert estimate_fields(minutes, takes, "customfield_10016") == {
        "timetracking": {"originalEstimate": "90m", "remainingEstimate": "30m"}
    }
    assert estimate_fields({**minutes, "original_estimate": 20001}, takes, "x") == {}
    points = {"original_estimate": 5, "work_units": 20}
    assert estimate_fields(points, takes, "customfield_10016") == {"customfield_10016": 5}
    assert estimate_fields({**points, "use_requirements_estimates": True}, takes, "c") == {}


def test_an_ambiguous_user_is_left_out_with_a_warning(settings, mocked_http):
    from services.jira.users import UserPicker

    mocked_http.get(
        f"{API}/user/picker?query=maya%40example.com",
        body=raw_fixture("jira/user_picker_ambiguous.json"),
    )
    mocked_http.get(f"{API}/user/picker?query=Maya", json={"users": []})
    service = service_for(settings)
    found = UserPicker(service).find({"email": "maya@example.com", "name": "Maya"}, "assignee")
    assert found is None
    assert "2 people" in str(service.logger.messages)


def test_feature_events_check_the_settings_before_any_write(settings, mocked_http):
    settings["feature_issue_type"] = "99999"
    with pytest.raises(ConfigurationError, match="99999"):
        service_for(settings, feature_payload()).receive("create_feature")
    assert len(mocked_http.calls) == 0
    settings["project"] = ""
    with pytest.raises(ConfigurationError, match="project"):
        service_for(settings, feature_payload()).receive("create_feature")


def test_missing_project_data_is_read_first(settings, mocked_http):
    mock_common_reads(mocked_http)
    mocked_http.get(f"{API}/issue/createmeta/PAY/issuetypes?startAt=0", status=404)
    mocked_http.get(
        f"{API}/issue/createmeta?projectKeys=PAY&expand=projects.issuetypes.fields",
        body=raw_fixture("jira/createmeta_expanded.json"),
    )
    mocked_http.get(f"{API}/project/PAY/statuses", body=raw_fixture("jira/project_statuses.json"))
    service = service_for(settings, meta_data={})
    project = ProjectData(service).ensure_project()
    assert project["key"] == "PAY"
    assert service.meta_data_to_return()["issue_types"]["PAY"][0]["name"] == "Story"


# --- versions and releases ---------------------------------------------------------------------


def release_payload():
    return copy.deepcopy(json_fixture("create_release_event.json"))


def test_create_release_links_the_projects_version_of_the_same_name(settings, mocked_http):
    mocked_http.get(f"{API}/project/PAY/versions", body=raw_fixture("jira/project_versions.json"))
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service_for(settings, release_payload()).receive("create_release")
    write = next(c for c in mocked_http.calls if c.request.url.startswith(AHA))
    assert request_json(write) == {
        "integration_fields": [
            {"name": "id", "value": "10401"},
            {"name": "url", "value": f"{JIRA}/browse/PAY/fixforversion/10401"},
        ]
    }
    assert not any(
        c.request.method == "POST" and c.request.url.startswith(JIRA) for c in mocked_http.calls
    )


def test_create_release_creates_a_version(settings, mocked_http):
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.post(f"{API}/version", status=201, body=raw_fixture("jira/version_created.json"))
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service_for(settings, release_payload()).receive("create_release")
    post = next(c for c in mocked_http.calls if c.request.url == f"{API}/version")
    assert request_json(post) == {
        "name": "Winter launch",
        "releaseDate": "2026-12-18",
        "released": False,
        "description": "Created from Aha! https://acme.aha.io/releases/ACME-R-3",
        "project": "PAY",
    }
    assert_jira_auth(mocked_http)


def test_a_version_created_meanwhile_is_read_again_and_linked(settings, mocked_http):
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.get(f"{API}/project/PAY/versions", body=raw_fixture("jira/project_versions.json"))
    mocked_http.post(
        f"{API}/version", status=400, body=raw_fixture("jira/error_400_version_exists.json")
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    payload = release_payload()
    payload["release"]["url"] = None
    service_for(settings, payload).receive("create_release")
    post = next(c for c in mocked_http.calls if c.request.url == f"{API}/version")
    assert request_json(post)["description"] == ""
    write = next(c for c in mocked_http.calls if c.request.url.startswith(AHA))
    assert request_json(write)["integration_fields"][0] == {"name": "id", "value": "10401"}


def test_update_release_puts_the_linked_version_and_recreates_a_deleted_one(settings, mocked_http):
    payload = release_payload()
    link(payload["release"], id="10400")
    mocked_http.put(f"{API}/version/10400", json={"id": "10400"})
    service_for(settings, payload).receive("update_release")
    assert request_json(mocked_http.calls[0]) == {
        "name": "Winter launch",
        "releaseDate": "2026-12-18",
        "released": False,
    }
    mocked_http.replace("PUT", f"{API}/version/10400", status=404, json={})
    mocked_http.get(f"{API}/version/10400", status=404, json={})
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.post(f"{API}/version", status=201, body=raw_fixture("jira/version_created.json"))
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    service_for(settings, payload).receive("update_release")
    assert ("POST", f"{API}/version") in made(mocked_http)


def test_releases_are_not_sent_when_dont_send_releases(settings, mocked_http):
    settings["dont_send_releases"] = True
    service_for(settings, release_payload()).receive("create_release")
    service_for(settings, release_payload()).receive("update_release")
    assert len(mocked_http.calls) == 0


# --- comments ---------------------------------------------------------------------------------


def test_a_comment_goes_to_the_linked_issue(settings, mocked_http):
    commentable = {"reference_num": "ACME-12"}
    link(commentable, id="10234", key="PAY-17")
    payload = {
        "comment": {
            "body": "<p>Ship it <strong>now</strong></p>",
            "url": "https://acme.aha.io/comments/1",
            "user": {"name": "Maya Okafor"},
        },
        "commentable": commentable,
    }
    mocked_http.post(f"{API}/issue/10234/comment", status=201, json={"id": "1"})
    service_for(settings, payload).receive("create_comment")
    body = request_json(mocked_http.calls[0])["body"]
    assert body.startswith(
        "Comment added by Maya Okafor in [Aha!|https://acme.aha.io/comments/1]\n\n"
    )
    assert "Ship it" in body
    assert_jira_auth(mocked_http)


def test_a_comment_on_an_unlinked_record_is_an_info_line(settings, mocked_http):
    service = service_for(settings, {"comment": {"body": "x"}, "commentable": {}})
    service.receive("create_comment")
    assert len(mocked_http.calls) == 0
    assert "not linked" in str(service.logger.messages)


# --- webhook ----------------------------------------------------------------------------------


def webhook_settings(settings):
    return {
        **settings,
        "feature_status_mapping": {"3": "7000000000000000303", "10001": "7000000000000000404"},
    }


def test_the_webhook_moves_status_name_and_tags_of_the_linked_feature(settings, mocked_http):
    search = f"{AHA}/integrations/4242/fields/id/value/10234"
    mocked_http.get(search, body=raw_fixture("jira/search_integration_fields.json"))
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    service_for(webhook_settings(settings), jira_fixture("webhook_issue_updated.json")).receive(
        "webhook"
    )
    put = next(c for c in mocked_http.calls if c.request.method == "PUT")
    assert request_json(put) == {
        "feature": {
            "workflow_status": "7000000000000000303",
            "name": "Bulk export of all invoices",
            "tags": ["finance", "quarter_end"],
        }
    }
    assert not jira_calls(mocked_http)


def test_the_webhook_under_payload_with_nothing_new_puts_nothing(settings, mocked_http):
    event = jira_fixture("webhook_issue_updated.json")
    event["changelog"]["items"] = []
    event["issue"]["fields"]["status"]["id"] = "10000"  # unmapped
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/10234",
        body=raw_fixture("jira/search_integration_fields.json"),
    )
    service_for(webhook_settings(settings), {"payload": json.dumps(event)}).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


@pytest.mark.parametrize(
    ("change", "said"),
    [({"webhookEvent": "jira:issue_created"}, "issue_created"), ({"project": "MOB"}, "MOB")],
)
def test_the_webhook_ignores_other_events_and_projects(settings, mocked_http, change, said):
    event = jira_fixture("webhook_issue_updated.json")
    if "project" in change:
        event["issue"]["fields"]["project"]["key"] = change["project"]
    else:
        event.update(change)
    service = service_for(webhook_settings(settings), event)
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert said in str(service.logger.messages)


def warnings(service):
    return [m["message"] for m in service.logger.messages if m["severity"] == 2]


@pytest.mark.parametrize(
    ("records", "warning"),
    [
        ([], "Jira issue PAY-17 (id 10234) is not linked to a record in Aha!; nothing changed"),
        (
            [{"feature": {"id": "1"}}, {"requirement": {"id": "2"}}],
            "2 Aha! records are linked to Jira issue PAY-17 (id 10234); none was changed",
        ),
    ],
)
def test_the_webhook_warns_once_naming_the_issue_when_not_one_record_is_linked(
    settings, mocked_http, records, warning
):
    search = f"{AHA}/integrations/4242/fields/id/value/10234"
    mocked_http.get(search, json={"records": records})
    service = service_for(webhook_settings(settings), jira_fixture("webhook_issue_updated.json"))
    service.receive("webhook")
    assert warnings(service) == [warning]
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("GET", search)]
    assert mocked_http.calls[0].request.headers["Authorization"].startswith("Bearer ")


def test_the_webhook_of_a_requirement_uses_its_own_status_mapping(settings, mocked_http):
    settings = {
        **webhook_settings(settings),
        "send_tags": "0",
        "requirement_status_mapping": {"3": "7000000000000000505"},
    }
    search = f"{AHA}/integrations/4242/fields/id/value/10234"
    requirement = {
        "id": "7",
        "reference_num": "ACME-12-1",
        "workflow_status": {"id": "7000000000000000202"},
        "resource": "https://acme.aha.io/api/v1/requirements/ACME-12-1",
    }
    mocked_http.get(search, json={"records": [{"requirement": requirement}]})
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    service_for(settings, jira_fixture("webhook_issue_updated.json")).receive("webhook")
    put = mocked_http.calls[1]
    assert (put.request.method, put.request.url) == ("PUT", f"{AHA}/requirements/ACME-12-1")
    assert request_json(put) == {
        "requirement": {
            "workflow_status": "7000000000000000505",
            "name": "Bulk export of all invoices",
        }
    }


def test_the_webhook_without_a_project_or_with_unreadable_json_changes_nothing(
    settings, mocked_http
):
    settings["project"] = ""
    service = service_for(settings, jira_fixture("webhook_issue_updated.json"))
    service.receive("webhook")
    assert warnings(service) == ["No Jira project is chosen (project); the webhook was ignored"]
    service = service_for(webhook_settings({**settings, "project": "PAY"}), {"payload": "{nope"})
    service.receive("webhook")
    assert "Ignoring the Jira webhook event unreadable" in str(service.logger.messages)
    assert len(mocked_http.calls) == 0


# --- initiatives, rank, mapping, cut markup ---------------------------------------------------


def test_an_initiative_becomes_an_epic_once_and_the_feature_its_child(settings, mocked_http):
    settings.update(send_initiatives=True, dont_send_releases="1", send_tags="0")
    payload = feature_payload(requirements=False)
    feature = payload["feature"]
    feature["initiative"] = {
        "id": "1",
        "reference_num": "ACME-S-3",
        "name": "Self-serve finance",
        "integration_fields": [],
    }
    feature["description"]["attachments"] = []
    feature["assigned_to_user"] = feature["created_by_user"] = None
    created = iter([("10300", "PAY-30"), ("10234", "PAY-17")])
    mocked_http.add_callback(
        "POST",
        f"{API}/issue",
        callback=lambda request: (
            201,
            {},
            json.dumps(dict(zip(("id", "key"), next(created), strict=True))),
        ),
    )
    mocked_http.post(fields_url("initiatives", "ACME-S-3"), json={})
    mock_aha_writes(mocked_http)
    service_for(settings, payload).receive("create_feature")
    epic, story = [
        request_json(c)["fields"] for c in mocked_http.calls if c.request.url == f"{API}/issue"
    ]
    assert epic["issuetype"] == {"id": EPIC}
    assert epic["customfield_10011"] == "Self-serve finance"
    assert story["customfield_10014"] == "PAY-30"
    write = next(
        c for c in mocked_http.calls if c.request.url == fields_url("initiatives", "ACME-S-3")
    )
    assert {"name": "key", "value": "PAY-30"} in request_json(write)["integration_fields"]


def test_a_new_issue_is_ranked_after_its_aha_neighbour(settings, mocked_http):
    settings.update(dont_send_releases="1", send_tags="0")
    payload = feature_payload(requirements=False)
    feature = payload["feature"]
    feature["description"]["attachments"] = []
    feature["assigned_to_user"] = feature["created_by_user"] = None
    mocked_http.post(f"{API}/issue", status=201, body=raw_fixture("jira/issue_created.json"))
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    neighbour = {
        "direction": "before",
        "integration_fields": [{"name": "key", "value": "PAY-3", "integration_id": 4242}],
    }
    mocked_http.get(f"{AHA}/features/ACME-12/integrations/4242/adjacent_fields", json=neighbour)
    mocked_http.put(f"{JIRA}/rest/agile/1.0/issue/rank", status=204)
    service_for(settings, payload).receive("create_feature")
    rank = next(c for c in mocked_http.calls if "/rest/agile/" in c.request.url)
    assert request_json(rank) == {"issues": ["PAY-17"], "rankAfterIssue": "PAY-3"}
    assert rank.request.headers["Authorization"] == BASIC


def test_a_mapped_number_that_is_not_one_names_both_fields(settings, mocked_http):
    settings.update(
        dont_send_releases="1",
        field_mapping=[{"aha_field": "revenue", "jira_field": "customfield_10061"}],
    )
    payload = feature_payload(requirements=False)
    payload["feature"]["custom_fields"] = [{"key": "revenue", "value": "a lot"}]
    payload["feature"]["assigned_to_user"] = payload["feature"]["created_by_user"] = None
    with pytest.raises(ConfigurationError, match="revenue.*Revenue impact"):
        service_for(settings, payload).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_cut_wiki_markup_closes_its_block_and_ends_with_the_cores_note():
    from services.jira.text import fit_wiki

    text = "intro\n\n{code}\n" + "x = 1\n" * 100 + "{code}"
    cut = fit_wiki(text, 200, "https://acme.aha.io/features/ACME-12")
    assert len(cut) <= 200
    assert cut.startswith("intro\n\n{code}\nx = 1\n")
    assert cut.endswith(
        "x = 1\n{code}\n\n… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)"
    )
    assert cut.count("{code}") == 2


def test_the_webhook_echoing_what_aha_sent_puts_nothing(settings, mocked_http):
    """Jira's answer to a rename Aha! pushed carries the same summary and labels: no PUT."""
    record = {
        **json_fixture("jira/search_integration_fields.json")["records"][0]["feature"],
        "name": "Bulk export of all invoices",
        "tags": "quarter_end,finance",
        "workflow_status": {"id": "7000000000000000303", "name": "In development"},
    }
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/10234", json={"records": [{"feature": record}]}
    )
    service = service_for(webhook_settings(settings), jira_fixture("webhook_issue_updated.json"))
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert "No change for feature ACME-12" in str(service.logger.messages)


@pytest.mark.parametrize(
    "damage",
    [
        lambda event: event["issue"]["fields"].update(status="3"),
        lambda event: event["issue"]["fields"].update(project=["PAY"]),
        lambda event: event.update(changelog=["summary"]),
        lambda event: event["changelog"].update(items=["summary", None]),
        lambda event: event.update(issue="PAY-17"),
        lambda event: event["issue"]["fields"].update(labels={"a": 1}),
    ],
)
def test_a_webhook_of_an_unexpected_shape_is_read_as_far_as_it_goes(settings, mocked_http, damage):
    event = jira_fixture("webhook_issue_updated.json")
    damage(event)
    mocked_http.get(
        f"{AHA}/integrations/4242/fields/id/value/10234",
        body=raw_fixture("jira/search_integration_fields.json"),
    )
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    service = service_for(webhook_settings(settings), event)
    service.receive("webhook")
    puts = [request_json(c) for c in mocked_http.calls if c.request.method == "PUT"]
    assert all(set(put["feature"]) <= {"workflow_status", "name", "tags"} for put in puts)


def test_the_user_picker_takes_the_person_whose_whole_email_it_marked(settings, mocked_http):
    """Jira marks the matched text in bold, also where it is only the start of a longer
    address: that entry is somebody else, alone or not."""
    from services.jira.users import UserPicker

    url = f"{API}/user/picker?query=maya%40example.com"
    mocked_http.get(url, body=raw_fixture("jira/user_picker_prefix.json"))
    service = service_for(settings)
    found = UserPicker(service).find({"email": "maya@example.com"}, "assignee")
    assert found == {"accountId": "5b10ac8d82e05b22cc7d4e11"}
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [("GET", url)]
    assert_jira_auth(mocked_http)

    lone = json_fixture("jira/user_picker_prefix.json")
    lone["users"] = lone["users"][:1]
    mocked_http.replace("GET", url, json=lone)
    service = service_for(settings)
    assert UserPicker(service).find({"email": "maya@example.com"}, "reporter") is None
    assert "left unset" in str(service.logger.messages)


def test_a_release_name_with_spaces_around_it_is_sent_and_found_trimmed(settings, mocked_http):
    """Jira keeps a version's name trimmed; the name sent and the one looked for are too."""
    mocked_http.get(f"{API}/project/PAY/versions", json=[])
    mocked_http.get(f"{API}/project/PAY/versions", body=raw_fixture("jira/project_versions.json"))
    mocked_http.post(
        f"{API}/version", status=400, body=raw_fixture("jira/error_400_version_exists.json")
    )
    mocked_http.post(fields_url("releases", "ACME-R-3"), json={})
    payload = release_payload()
    payload["release"]["name"] = "  Winter launch \n"
    service_for(settings, payload).receive("create_release")
    post = next(c for c in mocked_http.calls if c.request.url == f"{API}/version")
    assert request_json(post)["name"] == "Winter launch"
    assert_jira_auth(mocked_http)
    write = next(c for c in mocked_http.calls if c.request.url.startswith(AHA))
    assert request_json(write)["integration_fields"][0] == {"name": "id", "value": "10401"}


@pytest.mark.parametrize(
    ("path", "answer", "said"),
    [
        ("/project/search?startAt=0", [], "with an array where an object was expected"),
        ("/project/search?startAt=0", {"values": ["PAY"]}, "page of items with an array holding"),
        ("/resolution", {"id": "1"}, "with an object where an array of objects was expected"),
        ("/field", [["id", "name"]], "with an array holding an array where an array of objects"),
    ],
)
def test_an_answer_of_another_shape_is_a_remote_error_naming_it(
    settings, mocked_http, path, answer, said
):
    mocked_http.get(f"{API}/field", json=jira_fixture("fields.json"))
    mocked_http.get(f"{API}/project/search?startAt=0", json={"values": [], "isLast": True})
    mocked_http.get(f"{API}/resolution", json=[])
    mocked_http.replace("GET", f"{API}{path}", json=answer)
    with pytest.raises(RemoteError, match=said) as raised:
        service_for({**settings, "project": ""}).receive("installed")
    assert "GET" in str(raised.value)


def test_a_page_size_that_is_not_a_number_reads_on_from_the_items_read(settings, mocked_http):
    page = {"values": [{"id": "1", "key": "PAY", "name": "Payments"}], "maxResults": "50"}
    mocked_http.get(f"{API}/project/search?startAt=0", json={**page, "isLast": False})
    mocked_http.get(f"{API}/project/search?startAt=1", json={"values": [], "isLast": True})
    service = service_for(settings)
    assert ProjectData(service).projects() == [{"id": "1", "key": "PAY", "name": "Payments"}]
