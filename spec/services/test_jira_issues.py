"""Jira issues beyond the first create: linked requirements, parents, initiatives, rank,
and the answers Jira gives when something is missing."""

import copy
import json

import pytest

from services.core import ConfigurationError, RemoteError
from services.jira import Jira
from spec.conftest import json_fixture, raw_fixture, request_json
from spec.services.test_jira import (
    AHA,
    API,
    BASIC,
    EPIC,
    JIRA,
    JIRA_SETTINGS,
    STORY,
    SUBTASK,
    assert_jira_auth,
    fields_url,
    link,
    loaded_meta_data,
    mock_aha_writes,
)


@pytest.fixture
def settings(user_data):
    return {**user_data, **JIRA_SETTINGS, "dont_send_releases": "1", "send_tags": "0"}


def plain(record):
    """A record without files, users or tags: only the issue calls remain."""
    record["description"]["attachments"] = []
    record["attachments"] = []
    record["assigned_to_user"] = record["created_by_user"] = None
    record["tags"] = []
    return record


def feature_payload():
    payload = copy.deepcopy(json_fixture("create_feature_event.json"))
    plain(payload["feature"])
    for requirement in payload["feature"]["requirements"]:
        plain(requirement)
    return payload


def issue_creates(mocked_http, *issues):
    """POST /issue answering each ``(id, key)`` in turn."""
    answers = iter(issues)
    mocked_http.add_callback(
        "POST",
        f"{API}/issue",
        callback=lambda request: (
            201,
            {},
            json.dumps(dict(zip(("id", "key"), next(answers), strict=True))),
        ),
    )


def posted_issues(mocked_http):
    return [
        request_json(c)["fields"]
        for c in mocked_http.calls
        if c.request.method == "POST" and c.request.url == f"{API}/issue"
    ]


def with_type_fields(meta, type_id, *extra, drop=()):
    for issue_type in meta["issue_types"]["PAY"]:
        if issue_type["id"] == type_id:
            issue_type["fields"] = [f for f in issue_type["fields"] if f not in drop] + list(extra)
    return meta


# --- requirements ------------------------------------------------------------------------------


def test_update_feature_updates_its_linked_requirements_and_creates_the_new_one(
    settings, mocked_http
):
    payload = feature_payload()
    feature = payload["feature"]
    link(feature, id="10234", key="PAY-17")
    link(feature["requirements"][0], id="10235", key="PAY-18")
    editmeta = {"fields": {"summary": {}, "description": {}, "parent": {}}}
    for issue_id in ("10234", "10235"):
        mocked_http.get(f"{API}/issue/{issue_id}/editmeta", json=editmeta)
        mocked_http.put(f"{API}/issue/{issue_id}", status=204)
        mocked_http.get(f"{API}/issue/{issue_id}?fields=attachment", json={"fields": {}})
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10236", "key": "PAY-19"})
    mock_aha_writes(mocked_http)
    Jira(settings, payload, loaded_meta_data()).receive("update_feature")

    made = [(c.request.method, c.request.url) for c in mocked_http.calls]
    assert ("PUT", f"{API}/issue/10234") in made and ("PUT", f"{API}/issue/10235") in made
    requirement_put = next(c for c in mocked_http.calls if c.request.url == f"{API}/issue/10235")
    assert request_json(requirement_put) == {
        "fields": {
            "summary": "Export as CSV",
            "description": "One row per invoice line. Columns as in the attachment.",
        }
    }  # a sub-task's parent is set once, when it is created
    assert posted_issues(mocked_http) == [
        {
            "project": {"key": "PAY"},
            "issuetype": {"id": SUBTASK},
            "summary": "Bundle the PDFs in one zip & name it by quarter",
            "description": "Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.",
            "parent": {"key": "PAY-17"},
        }
    ]
    assert_jira_auth(mocked_http)


def test_a_feature_linked_by_id_alone_is_still_the_parent(settings, mocked_http):
    requirement = plain(copy.deepcopy(feature_payload()["feature"]["requirements"][0]))
    requirement["feature"] = plain(copy.deepcopy(feature_payload()["feature"]))
    link(requirement["feature"], id="10234")
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10235", "key": "PAY-18"})
    mock_aha_writes(mocked_http)
    Jira(settings, {"requirement": requirement}, loaded_meta_data()).receive("create_requirement")
    assert posted_issues(mocked_http)[0]["parent"] == {"id": "10234"}


def test_a_requirement_of_an_unlinked_feature_creates_the_feature_first(settings, mocked_http):
    requirement = plain(copy.deepcopy(feature_payload()["feature"]["requirements"][0]))
    requirement["feature"] = plain(copy.deepcopy(feature_payload()["feature"]))
    issue_creates(mocked_http, ("10234", "PAY-17"), ("10235", "PAY-18"))
    mock_aha_writes(mocked_http)
    Jira(settings, {"requirement": requirement}, loaded_meta_data()).receive("create_requirement")
    feature, sub_task = posted_issues(mocked_http)
    assert feature["issuetype"] == {"id": STORY}
    assert sub_task["parent"] == {"key": "PAY-17"}
    links = [c.request.url for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert fields_url("features", "ACME-12") in links
    assert fields_url("requirements", "ACME-12-1") in links


def test_a_requirement_under_an_epic_takes_parent_where_jira_cloud_has_it(settings, mocked_http):
    settings.update(feature_issue_type=EPIC, requirement_issue_type=STORY)
    meta = with_type_fields(loaded_meta_data(), STORY, "parent")
    issue_creates(mocked_http, ("10234", "PAY-17"), ("10235", "PAY-18"), ("10236", "PAY-19"))
    mock_aha_writes(mocked_http)
    Jira(settings, feature_payload(), meta).receive("create_feature")
    epic, first, second = posted_issues(mocked_http)
    assert epic["customfield_10011"] == "Bulk export of invoices"
    assert first["parent"] == second["parent"] == {"key": "PAY-17"}
    assert "customfield_10014" not in first
    assert not any(c.request.url == f"{API}/issueLink" for c in mocked_http.calls)


def test_a_requirement_under_an_epic_without_a_parent_field_is_related(settings, mocked_http):
    settings.update(feature_issue_type=EPIC, requirement_issue_type=STORY)
    meta = with_type_fields(loaded_meta_data(), STORY, drop=("customfield_10014",))
    payload = feature_payload()
    payload["feature"]["requirements"] = payload["feature"]["requirements"][:1]
    issue_creates(mocked_http, ("10234", "PAY-17"), ("10235", "PAY-18"))
    mocked_http.post(f"{API}/issueLink", status=201)
    mock_aha_writes(mocked_http)
    Jira(settings, payload, meta).receive("create_feature")
    issue_link = next(c for c in mocked_http.calls if c.request.url == f"{API}/issueLink")
    assert issue_link.request.method == "POST"
    assert issue_link.request.headers["Authorization"] == BASIC
    assert request_json(issue_link) == {
        "type": {"name": "Relates"},
        "inwardIssue": {"id": "10234"},
        "outwardIssue": {"id": "10235"},
    }


# --- answers and settings ----------------------------------------------------------------------


def test_no_issue_type_chosen_is_a_configuration_error_before_any_request(settings, mocked_http):
    settings["feature_issue_type"] = ""
    with pytest.raises(ConfigurationError, match="feature_issue_type"):
        Jira(settings, feature_payload(), loaded_meta_data()).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_a_create_answered_without_an_issue_key_is_a_remote_error(settings, mocked_http):
    mocked_http.post(f"{API}/issue", status=201, json={"self": f"{API}/issue/10234"})
    with pytest.raises(RemoteError, match="without an issue id and key"):
        Jira(settings, feature_payload(), loaded_meta_data()).receive("create_feature")
    assert [c.request.method for c in mocked_http.calls] == ["POST"]


def test_an_update_jira_refuses_for_another_reason_fails_the_event(settings, mocked_http):
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    link(payload["feature"], id="10234", key="PAY-17")
    mocked_http.get(f"{API}/issue/10234/editmeta", json={"fields": {"summary": {}}})
    mocked_http.put(
        f"{API}/issue/10234", status=400, json={"errorMessages": ["Issue is in a closed sprint"]}
    )
    with pytest.raises(RemoteError, match="PUT /issue/10234: Issue is in a closed sprint"):
        Jira(settings, payload, loaded_meta_data()).receive("update_feature")
    put = mocked_http.calls[1]
    assert request_json(put) == {"fields": {"summary": "Bulk export of invoices"}}


@pytest.mark.parametrize(
    ("body", "said"),
    [("<html>Bad Request</html>", "<html>Bad Request</html>"), ('["no"]', '["no"]')],
)
def test_a_400_jira_did_not_explain_quotes_its_body(settings, mocked_http, body, said):
    mocked_http.post(f"{API}/issue", status=400, body=body)
    with pytest.raises(RemoteError, match="POST /issue") as error:
        Jira(settings, feature_payload(), loaded_meta_data()).receive("create_feature")
    assert said in str(error.value)


def test_people_the_picker_does_not_know_are_left_out(settings, mocked_http):
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    feature = payload["feature"]
    feature["assigned_to_user"] = {"name": "Ana Ruiz", "email": "ana@example.com"}
    feature["created_by_user"] = {"name": "", "email": "ana@example.com"}
    mocked_http.get(f"{API}/user/picker?query=ana%40example.com", json={"users": []})
    mocked_http.get(f"{API}/user/picker?query=Ana+Ruiz", json={"users": []})
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10234", "key": "PAY-17"})
    mock_aha_writes(mocked_http)
    Jira(settings, payload, loaded_meta_data()).receive("create_feature")
    fields = posted_issues(mocked_http)[0]
    assert "assignee" not in fields and "reporter" not in fields
    pickers = [c.request.url for c in mocked_http.calls if "/user/picker" in c.request.url]
    assert pickers == [
        f"{API}/user/picker?query=ana%40example.com",
        f"{API}/user/picker?query=Ana+Ruiz",
    ]


def test_the_user_picker_on_server_names_people_and_takes_a_lone_answer(settings, mocked_http):
    from services.jira.users import UserPicker

    mocked_http.get(
        f"{API}/user/picker?query=ana%40example.com",
        json={"users": [{"name": "ana", "key": "JIRAUSER10100", "html": "Ana Ruiz"}]},
    )
    picker = UserPicker(Jira(settings, {}, loaded_meta_data()))
    assert picker.find({"email": "ana@example.com"}, "assignee") == {"name": "ana"}
    assert picker.find(None, "assignee") is None
    assert picker.find({"email": "", "name": None}, "assignee") is None
    assert len(mocked_http.calls) == 1
    assert mocked_http.calls[0].request.headers["Authorization"] == BASIC


# --- initiatives -------------------------------------------------------------------------------


def initiative(**fields):
    record = {
        "id": "1",
        "reference_num": "ACME-S-3",
        "name": "Self-serve finance",
        "description": {"body": "<p>Let finance <em>serve</em> itself.</p>"},
        "url": "https://acme.aha.io/initiatives/ACME-S-3",
        "integration_fields": [],
    }
    link(record, **fields)
    return record


def initiative_payload(record):
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    payload["feature"]["initiative"] = record
    return payload


def test_a_linked_initiative_is_the_parent_where_the_type_takes_parent(settings, mocked_http):
    settings["send_initiatives"] = True
    meta = with_type_fields(loaded_meta_data(), STORY, "parent", drop=("customfield_10014",))
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10234", "key": "PAY-17"})
    mock_aha_writes(mocked_http)
    Jira(settings, initiative_payload(initiative(id="10300", key="PAY-30")), meta).receive(
        "create_feature"
    )
    (story,) = posted_issues(mocked_http)
    assert story["parent"] == {"key": "PAY-30"}


def test_an_initiative_is_not_sent_where_the_type_has_no_field_for_it(settings, mocked_http):
    settings["send_initiatives"] = "1"
    meta = with_type_fields(loaded_meta_data(), STORY, drop=("customfield_10014",))
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10234", "key": "PAY-17"})
    mock_aha_writes(mocked_http)
    Jira(settings, initiative_payload(initiative()), meta).receive("create_feature")
    assert len(posted_issues(mocked_http)) == 1
    assert "parent" not in posted_issues(mocked_http)[0]


def test_an_initiative_of_a_project_without_an_epic_type_is_a_warning(settings, mocked_http):
    settings["send_initiatives"] = "1"
    meta = loaded_meta_data()
    meta["issue_types"]["PAY"] = [t for t in meta["issue_types"]["PAY"] if t["id"] != EPIC]
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10234", "key": "PAY-17"})
    mock_aha_writes(mocked_http)
    service = Jira(settings, initiative_payload(initiative()), meta)
    service.receive("create_feature")
    assert "Project PAY has no Epic type; the initiative Self-serve finance was not sent" in str(
        service.logger.messages
    )
    assert "customfield_10014" not in posted_issues(mocked_http)[0]


def test_an_initiatives_epic_gets_only_the_fields_its_type_takes(settings, mocked_http):
    settings["send_initiatives"] = "1"
    meta = with_type_fields(loaded_meta_data(), EPIC, drop=("description", "customfield_10011"))
    mocked_http.post(f"{API}/issue", status=201, json={"self": "no key"})
    with pytest.raises(RemoteError, match="without an issue key"):
        Jira(settings, initiative_payload(initiative()), meta).receive("create_feature")
    assert posted_issues(mocked_http) == [
        {
            "project": {"key": "PAY"},
            "issuetype": {"id": EPIC},
            "summary": "Self-serve finance",
        }
    ]


def test_an_initiatives_epic_carries_its_description(settings, mocked_http):
    settings["send_initiatives"] = "1"
    issue_creates(mocked_http, ("10300", "PAY-30"), ("10234", "PAY-17"))
    mocked_http.post(fields_url("initiatives", "ACME-S-3"), json={})
    mock_aha_writes(mocked_http)
    Jira(settings, initiative_payload(initiative()), loaded_meta_data()).receive("create_feature")
    epic = posted_issues(mocked_http)[0]
    assert epic["description"] == "Let finance _serve_ itself."
    assert epic["customfield_10011"] == "Self-serve finance"


# --- rank --------------------------------------------------------------------------------------


def ranked_create(settings, mocked_http, **rank):
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    mocked_http.post(f"{API}/issue", status=201, json={"id": "10234", "key": "PAY-17"})
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    neighbour = {
        "direction": "after",
        "integration_fields": [{"name": "id", "value": "10200", "integration_id": 4242}],
    }
    mocked_http.get(f"{AHA}/features/ACME-12/integrations/4242/adjacent_fields", json=neighbour)
    mocked_http.put(f"{JIRA}/rest/agile/1.0/issue/rank", **rank)
    service = Jira(settings, payload, loaded_meta_data())
    service.receive("create_feature")
    call = next(c for c in mocked_http.calls if "/rest/agile/" in c.request.url)
    assert call.request.method == "PUT"
    assert request_json(call) == {"issues": ["PAY-17"], "rankBeforeIssue": "10200"}
    assert call.request.headers["Authorization"] == BASIC
    return [m for m in service.logger.messages if m["severity"] == 0]


def test_a_rank_jira_refuses_is_only_a_debug_line(settings, mocked_http):
    debug = ranked_create(settings, mocked_http, status=403, json={"errorMessages": ["No"]})
    assert any("PAY-17 was not ranked: HTTP 403" in m["message"] for m in debug)


def test_a_rank_that_fails_is_only_a_debug_line(settings, mocked_http):
    debug = ranked_create(
        settings, mocked_http, status=302, headers={"Location": "https://10.0.0.5/rank"}
    )
    assert any("PAY-17 was not ranked:" in m["message"] for m in debug)


# --- attachments -------------------------------------------------------------------------------


def test_a_file_that_cannot_be_downloaded_is_a_warning_naming_it(settings, mocked_http):
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    payload["feature"]["attachments"] = [
        {
            "file_name": "mockup.png",
            "download_url": "https://cdn.aha.io/attachments/0001/mockup.png?1",
            "content_type": "image/png",
        }
    ]
    mocked_http.get("https://cdn.aha.io/attachments/0001/mockup.png?1", status=404)
    mocked_http.post(f"{API}/issue", status=201, body=raw_fixture("jira/issue_created.json"))
    mock_aha_writes(mocked_http)
    service = Jira(settings, payload, loaded_meta_data())
    service.receive("create_feature")
    assert "The file mockup.png was not attached to Jira issue 10234" in str(
        service.logger.messages
    )
    assert not any(c.request.url.endswith("/attachments") for c in mocked_http.calls)
