import copy

import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError
from services.core.logger import Severity
from services.core.registry import load_registry
from services.gitlab_issues import GitlabIssues
from services.gitlab_issues.service import projects
from spec.conftest import json_fixture, request_json

GITLAB = "https://gitlab.com/api/v4"
PROJECT = f"{GITLAB}/projects/5501"
AHA = "https://acme.aha.io/api/v1"
TOKEN = "glpat-7Qm2xVf9-secret-Zk"
REPOS = [
    {
        "id": 5501,
        "full_name": "Invoicing",
        "path_with_namespace": "finance/invoicing",
        "web_url": "https://gitlab.example.com/finance/invoicing",
    },
    {
        "id": 5502,
        "full_name": "ledger-sync",
        "path_with_namespace": "finance/ledger-sync",
        "web_url": "https://gitlab.example.com/finance/ledger-sync",
    },
]
FEATURE_DESCRIPTION = (
    "Finance teams need to export **all invoices** of a quarter at once. "
    "See [the spec](https://wiki.example.com/export).\n\n* CSV\n* PDF bundle\n\n"
    "mockup.png (https://cdn.aha.io/attachments/0001/mockup.png?1699999001)\n"
    "columns.csv (https://cdn.aha.io/attachments/0002/columns.csv?1699999002)\n\n"
    "Created from Aha! https://acme.aha.io/features/ACME-12"
)
REQUIREMENT_1_DESCRIPTION = (
    "One row per invoice line. Columns as in the attachment.\n\n"
    "csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)\n\n"
    "Created from Aha! https://acme.aha.io/requirements/ACME-12-1"
)
REQUIREMENT_2_DESCRIPTION = (
    "Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.\n\n"
    "Created from Aha! https://acme.aha.io/requirements/ACME-12-2"
)
IN_DEVELOPMENT = "7000000000000000203"
READY_TO_DEVELOP = "7000000000000000202"


def gitlab_issues(user_data, payload=None, meta_data=None, **settings):
    data = {**user_data, "private_token": TOKEN, "project": "finance/invoicing", **settings}
    meta = {"repos": copy.deepcopy(REPOS)} if meta_data is None else meta_data
    return GitlabIssues(data, payload or {}, meta)


def link(name, value, integration_id=4242):
    return {"name": name, "value": value, "integration_id": integration_id}


def issue(iid, **changes):
    answer = {
        **json_fixture("gitlab_issues/issue.json"),
        "id": 880000 + iid,
        "iid": iid,
        "web_url": f"https://gitlab.example.com/finance/invoicing/-/issues/{iid}",
    }
    return {**answer, **changes}


def sent(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


def assert_gitlab_auth(call):
    assert call.request.headers["PRIVATE-TOKEN"] == TOKEN
    assert "Authorization" not in call.request.headers


def assert_aha_call(call):
    assert call.request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"
    assert "PRIVATE-TOKEN" not in call.request.headers


def fields_body(**fields):
    return {"integration_fields": [{"name": k, "value": v} for k, v in fields.items()]}


def payload(name, **changes):
    event = json_fixture(name)
    record = event.get("feature") or event["release"]
    record.update(changes)
    return event


def with_milestone_link(event, milestone_id="771"):
    release = event["feature"]["release"] if "feature" in event else event["release"]
    release["integration_fields"].append(link("milestone_id", milestone_id))
    return event


def secret_free(service, error=None):
    texts = [m["message"] for m in service.logger.messages] + [str(error or "")]
    return all(TOKEN not in text for text in texts)


# --- schema ------------------------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in GitlabIssues.schema] == [
        ("password", "private_token"),
        ("string", "server_url"),
        ("install_button", "install_button"),
        ("select", "project"),
        ("select", "mapping"),
        ("string", "due_date_phase"),
        ("internal", "status_mapping"),
        ("boolean", "add_status_labels"),
        ("callback_url", "callback_url"),
    ]
    assert GitlabIssues.field_by_name("mapping").options["collection"] == [
        ["Feature -> Issue, Requirement -> Issue", "issue-issue"],
        ["Feature -> Issue, Requirement -> Checklist item", "issue-checklist"],
    ]
    assert GitlabIssues.field_by_name("server_url").options["label"] == "Server URL"
    assert GitlabIssues.field_by_name("project").to_wire()["options"]["collection"] == (
        "remote_collection"
    )
    assert (GitlabIssues.service_name, GitlabIssues.title, GitlabIssues.category) == (
        "gitlab_issues",
        "GitLab Issues",
        "Development",
    )
    assert GitlabIssues.caption_display() == "Send features to GitLab Issues"
    assert GitlabIssues.caption_display("marketing_workspace") == "Send activities to GitLab Issues"
    assert load_registry(use_entry_points=False).get("gitlab_issues") is GitlabIssues


def test_the_project_select_lists_paths_sorted_case_insensitively():
    meta = {
        "repos": [
            {"id": 3, "full_name": "zeta", "path_with_namespace": "ops/zeta"},
            {"id": 1, "full_name": "Api", "path_with_namespace": "Platform/api"},
            {"id": 2, "full_name": "legacy-only"},
        ]
    }
    from services.core.mash import mash

    assert projects(mash(meta), mash()) == [
        ["legacy-only", "legacy-only"],
        ["ops/zeta", "ops/zeta"],
        ["Platform/api", "Platform/api"],
    ]
    assert projects(mash(), mash()) == []


# --- installed and the connection ----------------------------------------------------------------


def test_installed_lists_every_page_of_projects(user_data, mocked_http):
    base = "https://gitlab.example.com/api/v4"
    second = f"{base}/projects?membership=true&with_issues_enabled=true&per_page=100&page=2"
    mocked_http.get(
        f"{base}/projects?membership=true&with_issues_enabled=true&per_page=100",
        json=json_fixture("gitlab_issues/projects_page_1.json"),
        headers={"Link": f'<{second}>; rel="next"'},
    )
    mocked_http.get(second, json=json_fixture("gitlab_issues/projects_page_2.json"))
    service = gitlab_issues(user_data, meta_data={}, server_url=f"{base}/")
    service.receive("installed")
    assert sent(mocked_http) == [
        ("GET", f"{base}/projects?membership=true&with_issues_enabled=true&per_page=100"),
        ("GET", second),
    ]
    for call in mocked_http.calls:
        assert_gitlab_auth(call)
    assert service.meta_data_to_return()["repos"] == [
        {
            "id": 5501,
            "full_name": "Invoicing",
            "path_with_namespace": "finance/invoicing",
            "web_url": "https://gitlab.example.com/finance/invoicing",
        },
        {
            "id": 5502,
            "full_name": "ledger-sync",
            "path_with_namespace": "finance/ledger-sync",
            "web_url": "https://gitlab.example.com/finance/ledger-sync",
        },
        {
            "id": 6120,
            "full_name": "API docs",
            "path_with_namespace": "platform/api-docs",
            "web_url": "https://gitlab.example.com/platform/api-docs",
        },
    ]


def test_installed_uses_gitlab_com_without_a_server_url(user_data, mocked_http):
    mocked_http.get(f"{GITLAB}/projects", json=[])
    service = gitlab_issues(user_data, meta_data={})
    service.receive("installed")
    assert sent(mocked_http) == [
        ("GET", f"{GITLAB}/projects?membership=true&with_issues_enabled=true&per_page=100")
    ]
    assert service.meta_data_to_return() == {"repos": []}


def test_a_401_names_gitlab_and_hides_the_token(user_data, mocked_http):
    mocked_http.get(f"{GITLAB}/projects", status=401, json={"message": f"401 bad {TOKEN}"})
    service = gitlab_issues(user_data)
    with pytest.raises(ConfigurationError) as raised:
        service.receive("installed")
    assert str(raised.value) == "GitLab rejected the credentials (401) for GET /projects"
    assert secret_free(service, raised.value)


@pytest.mark.parametrize(
    ("event", "fixture_name"),
    [
        ("installed", "create_release_event.json"),
        ("update_release", "update_release_event.json"),
        ("update_feature", "update_feature_event.json"),
    ],
)
def test_a_missing_token_is_a_configuration_error_before_any_request(
    user_data, mocked_http, event, fixture_name
):
    hook = with_milestone_link(json_fixture(fixture_name))
    service = gitlab_issues(user_data, hook, private_token="", due_date_phase="Beta")
    with pytest.raises(ConfigurationError, match=r"private token \(private_token\) is not set"):
        service.receive(event)
    assert len(mocked_http.calls) == 0


def test_api_v3_is_refused(user_data, mocked_http):
    service = gitlab_issues(user_data, server_url="https://gitlab.example.com/api/v3")
    with pytest.raises(ConfigurationError, match="v3 is no longer supported"):
        service.receive("installed")
    assert len(mocked_http.calls) == 0


def test_the_token_never_travels_over_plain_http(user_data, mocked_http):
    service = gitlab_issues(user_data, server_url="http://gitlab.example.com/api/v4")
    with pytest.raises(InvalidUrlError, match="over plain http"):
        service.receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_local_fake_gitlab_is_allowed_when_named(user_data, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.get("http://127.0.0.1:8929/api/v4/projects", json=[])
    gitlab_issues(user_data, server_url="http://127.0.0.1:8929/api/v4").receive("installed")
    assert_gitlab_auth(mocked_http.calls[0])


def test_a_redirect_to_another_origin_is_followed_without_the_token(user_data, mocked_http):
    elsewhere = "https://elsewhere.example.com/api/v4/projects"
    mocked_http.get(f"{GITLAB}/projects", status=301, headers={"Location": elsewhere})
    mocked_http.get(elsewhere, json=[])
    service = gitlab_issues(user_data)
    service.receive("installed")
    assert [method for method, _ in sent(mocked_http)] == ["GET", "GET"]
    assert sent(mocked_http)[1][1].startswith(elsewhere)
    assert_gitlab_auth(mocked_http.calls[0])
    assert "PRIVATE-TOKEN" not in mocked_http.calls[1].request.headers
    assert service.meta_data.repos == []


def test_a_redirected_issue_update_is_sent_again_with_its_body_and_token(user_data, mocked_http):
    event = json_fixture("update_feature_event.json")
    event["feature"]["release"] = None
    event["feature"]["requirements"] = []
    moved = f"{GITLAB}/projects/5502/issues/318"
    mocked_http.put(f"{PROJECT}/issues/318", status=308, headers={"Location": moved})
    mocked_http.put(moved, json=issue(318))
    service = gitlab_issues(user_data, event)
    service.receive("update_feature")
    assert sent(mocked_http) == [("PUT", f"{PROJECT}/issues/318"), ("PUT", moved)]
    first, second = mocked_http.calls
    assert request_json(first) == request_json(second)
    assert request_json(second)["title"] == "Bulk export of invoices"
    assert_gitlab_auth(first)
    assert_gitlab_auth(second)
    assert {
        "severity": Severity.INFO,
        "message": f"PUT {PROJECT}/issues/318 moved (308) to {moved}",
    } in service.logger.messages


# --- features ------------------------------------------------------------------------------------


def test_create_feature_creates_milestone_issue_and_requirement_issues(user_data, mocked_http):
    mocked_http.get(f"{PROJECT}/milestones?title=Winter+launch", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.post(f"{PROJECT}/issues", json=issue(52))
    mocked_http.post(f"{PROJECT}/issues", json=issue(53))
    mocked_http.post(f"{PROJECT}/issues", json=issue(54))
    for reference in ("features/ACME-12", "requirements/ACME-12-1", "requirements/ACME-12-2"):
        mocked_http.post(f"{AHA}/{reference}/integrations/4242/fields", json={})

    service = gitlab_issues(user_data, json_fixture("create_feature_event.json"))
    service.receive("create_feature")

    assert sent(mocked_http) == [
        ("GET", f"{PROJECT}/milestones?title=Winter+launch"),
        ("POST", f"{PROJECT}/milestones"),
        ("POST", f"{AHA}/releases/ACME-R-3/integrations/4242/fields"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/requirements/ACME-12-1/integrations/4242/fields"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"),
    ]
    calls = mocked_http.calls
    for index in (0, 1, 3, 5, 7):
        assert_gitlab_auth(calls[index])
    for index in (2, 4, 6, 8):
        assert_aha_call(calls[index])
    assert request_json(calls[1]) == {
        "title": "Winter launch",
        "description": "Created from Aha! https://acme.aha.io/releases/ACME-R-3",
        "due_date": "2026-12-18",
    }
    assert request_json(calls[2]) == fields_body(
        milestone_id=771,
        number=6,
        url="https://gitlab.example.com/finance/invoicing/-/milestones/6",
    )
    assert request_json(calls[3]) == {
        "title": "Bulk export of invoices",
        "description": FEATURE_DESCRIPTION,
        "milestone_id": 771,
        "labels": "finance,export",
    }
    assert request_json(calls[4]) == fields_body(
        id=880052, number=52, url="https://gitlab.example.com/finance/invoicing/-/issues/52"
    )
    assert request_json(calls[5]) == {
        "title": "Export as CSV",
        "description": REQUIREMENT_1_DESCRIPTION + "\n\nParent: #52",
        "milestone_id": 771,
        "labels": "",
    }
    assert request_json(calls[6]) == fields_body(
        id=880053, number=53, url="https://gitlab.example.com/finance/invoicing/-/issues/53"
    )
    assert request_json(calls[7]) == {
        "title": "Bundle the PDFs in one zip & name it by quarter",
        "description": REQUIREMENT_2_DESCRIPTION + "\n\nParent: #52",
        "milestone_id": 771,
        "labels": "",
    }
    assert request_json(calls[8])["integration_fields"][1] == {"name": "number", "value": 54}
    assert secret_free(service)


def test_a_milestone_titled_like_the_release_is_reused_and_linked(user_data, mocked_http):
    other = {**json_fixture("gitlab_issues/milestone.json"), "id": 700, "title": "Winter"}
    mocked_http.get(
        f"{PROJECT}/milestones?title=Winter+launch",
        json=[other, json_fixture("gitlab_issues/milestone.json")],
    )
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    service = gitlab_issues(user_data, json_fixture("create_release_event.json"))
    service.receive("create_release")
    assert sent(mocked_http) == [
        ("GET", f"{PROJECT}/milestones?title=Winter+launch"),
        ("POST", f"{AHA}/releases/ACME-R-3/integrations/4242/fields"),
    ]
    assert request_json(mocked_http.calls[1])["integration_fields"][0] == {
        "name": "milestone_id",
        "value": 771,
    }


def test_update_feature_updates_linked_issues_and_creates_new_requirements(user_data, mocked_http):
    event = with_milestone_link(json_fixture("update_feature_event.json"))
    mocked_http.get(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.put(f"{PROJECT}/issues/318", json=issue(318))
    mocked_http.put(f"{PROJECT}/issues/319", json=issue(319))
    mocked_http.post(f"{PROJECT}/issues", json=issue(320))
    mocked_http.post(f"{AHA}/requirements/ACME-12-2/integrations/4242/fields", json={})
    status_mapping = {"open": IN_DEVELOPMENT, "closed": "7000000000000000209"}

    gitlab_issues(user_data, event, status_mapping=status_mapping).receive("update_feature")

    assert sent(mocked_http) == [
        ("GET", f"{PROJECT}/milestones/771"),
        ("PUT", f"{PROJECT}/issues/318"),
        ("PUT", f"{PROJECT}/issues/319"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"),
    ]
    calls = mocked_http.calls
    assert request_json(calls[1]) == {
        "title": "Bulk export of invoices",
        "description": FEATURE_DESCRIPTION,
        "milestone_id": 771,
        "labels": "finance,export",
        "state_event": "reopen",
    }
    assert request_json(calls[2]) == {
        "title": "Export as CSV",
        "description": REQUIREMENT_1_DESCRIPTION + "\n\nParent: #318",
        "milestone_id": 771,
        "labels": "",
    }
    assert request_json(calls[3])["description"].endswith("Parent: #318")
    for index in range(4):
        assert_gitlab_auth(calls[index])


def test_create_feature_updates_an_issue_that_is_already_linked(user_data, mocked_http):
    event = payload(
        "create_feature_event.json",
        integration_fields=[link("number", "52"), link("number", "9", integration_id=5151)],
        requirements=[],
    )
    with_milestone_link(event)
    mocked_http.get(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.put(f"{PROJECT}/issues/52", json=issue(52))
    gitlab_issues(user_data, event).receive("create_feature")
    assert sent(mocked_http) == [
        ("GET", f"{PROJECT}/milestones/771"),
        ("PUT", f"{PROJECT}/issues/52"),
    ]
    assert "state_event" not in request_json(mocked_http.calls[1])


def test_a_linked_issue_that_answers_404_is_created_again(user_data, mocked_http):
    event = payload(
        "update_feature_event.json", integration_fields=[link("number", "318")], requirements=[]
    )
    with_milestone_link(event)
    mocked_http.get(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.put(f"{PROJECT}/issues/318", status=404, json={"message": "404 Issue Not Found"})
    mocked_http.post(f"{PROJECT}/issues", json=issue(61))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service = gitlab_issues(user_data, event)
    service.receive("update_feature")
    assert sent(mocked_http)[1:] == [
        ("PUT", f"{PROJECT}/issues/318"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
    ]
    assert request_json(mocked_http.calls[3]) == fields_body(
        id=880061, number=61, url="https://gitlab.example.com/finance/invoicing/-/issues/61"
    )
    assert any("issue 318 is gone from GitLab" in m["message"] for m in service.logger.messages)


def test_a_linked_milestone_that_is_gone_is_attached_again(user_data, mocked_http):
    event = with_milestone_link(payload("create_feature_event.json", requirements=[]), "12")
    mocked_http.get(f"{PROJECT}/milestones/12", status=404, json={"message": "404 Not found"})
    mocked_http.get(f"{PROJECT}/milestones?title=Winter+launch", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.post(f"{PROJECT}/issues", json=issue(52))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    gitlab_issues(user_data, event).receive("create_feature")
    assert [method for method, _ in sent(mocked_http)] == [
        "GET",
        "GET",
        "POST",
        "POST",
        "POST",
        "POST",
    ]
    assert request_json(mocked_http.calls[4])["milestone_id"] == 771


def test_a_server_error_is_a_remote_error_with_a_short_body(user_data, mocked_http):
    event = with_milestone_link(
        payload("update_feature_event.json", integration_fields=[link("number", "318")])
    )
    mocked_http.get(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.put(f"{PROJECT}/issues/318", status=500, body=f"{TOKEN} " + "x" * 600)
    service = gitlab_issues(user_data, event)
    with pytest.raises(RemoteError) as raised:
        service.receive("update_feature")
    message = str(raised.value)
    assert message.startswith("GitLab: PUT /projects/5501/issues/318 answered HTTP 500: ")
    assert message.endswith("x...") and len(message) < 600
    assert secret_free(service, raised.value)
    assert len(mocked_http.calls) == 2


def test_status_labels_replace_older_ones(user_data, mocked_http):
    event = payload(
        "create_feature_event.json", tags=["finance", "Aha!:Shipped", "export"], requirements=[]
    )
    mocked_http.get(f"{PROJECT}/milestones", json=[json_fixture("gitlab_issues/milestone.json")])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.post(f"{PROJECT}/issues", json=issue(52))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    gitlab_issues(user_data, event, add_status_labels="1").receive("create_feature")
    assert request_json(mocked_http.calls[2])["labels"] == "finance,export,Aha!:Ready to develop"


def test_requirements_as_a_checklist_make_one_issue(user_data, mocked_http):
    event = json_fixture("create_feature_event.json")
    event["feature"]["requirements"][0]["workflow_status"]["complete"] = True
    mocked_http.get(f"{PROJECT}/milestones", json=[json_fixture("gitlab_issues/milestone.json")])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.post(f"{PROJECT}/issues", json=issue(52))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    gitlab_issues(user_data, event, mapping="issue-checklist").receive("create_feature")
    assert [method for method, _ in sent(mocked_http)] == ["GET", "POST", "POST", "POST"]
    description = request_json(mocked_http.calls[2])["description"]
    assert (
        "* PDF bundle\n\n"
        "- [x] Export as CSV\n"
        "    One row per invoice line. Columns as in the attachment.\n"
        "    csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)\n"
        "- [ ] Bundle the PDFs in one zip & name it by quarter\n"
        "    Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.\n\n"
        "mockup.png"
    ) in description


def test_a_new_issue_is_closed_when_its_status_maps_to_closed(user_data, mocked_http):
    event = payload("create_feature_event.json", requirements=[])
    mocked_http.get(f"{PROJECT}/milestones", json=[json_fixture("gitlab_issues/milestone.json")])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.post(f"{PROJECT}/issues", json=issue(52))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    mocked_http.put(f"{PROJECT}/issues/52", json=issue(52, state="closed"))
    mapping = {"open": IN_DEVELOPMENT, "closed": READY_TO_DEVELOP}
    gitlab_issues(user_data, event, status_mapping=mapping).receive("create_feature")
    assert sent(mocked_http)[-1] == ("PUT", f"{PROJECT}/issues/52")
    assert request_json(mocked_http.calls[-1]) == {"state_event": "close"}
    assert "state_event" not in request_json(mocked_http.calls[2])


@pytest.mark.parametrize(
    "mapping",
    [None, {}, {"open": READY_TO_DEVELOP, "closed": READY_TO_DEVELOP}, "not a mapping"],
)
def test_no_or_ambiguous_status_mapping_sends_no_state(user_data, mocked_http, mapping):
    event = payload(
        "update_feature_event.json",
        integration_fields=[link("number", "318")],
        requirements=[],
        workflow_status={"id": READY_TO_DEVELOP, "name": "Ready to develop"},
    )
    with_milestone_link(event)
    mocked_http.get(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.put(f"{PROJECT}/issues/318", json=issue(318))
    gitlab_issues(user_data, event, status_mapping=mapping).receive("update_feature")
    assert "state_event" not in request_json(mocked_http.calls[1])


def test_a_project_missing_from_the_list_is_addressed_by_its_encoded_path(user_data, mocked_http):
    encoded = f"{GITLAB}/projects/finance%2Fnew-app"
    mocked_http.get(f"{encoded}/milestones", json=[json_fixture("gitlab_issues/milestone.json")])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    gitlab_issues(
        user_data, json_fixture("create_release_event.json"), project="finance/new-app"
    ).receive("create_release")
    assert sent(mocked_http)[0] == ("GET", f"{encoded}/milestones?title=Winter+launch")


def test_a_legacy_project_name_still_finds_the_project_id(user_data, mocked_http):
    mocked_http.get(f"{PROJECT}/milestones", json=[json_fixture("gitlab_issues/milestone.json")])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    gitlab_issues(
        user_data, json_fixture("create_release_event.json"), project="Invoicing"
    ).receive("create_release")
    assert sent(mocked_http)[0] == ("GET", f"{PROJECT}/milestones?title=Winter+launch")


@pytest.mark.parametrize(
    ("event", "fixture_name"),
    [
        ("create_feature", "create_feature_event.json"),
        ("update_feature", "update_feature_event.json"),
        ("create_release", "create_release_event.json"),
        ("update_release", "update_release_event.json"),
        ("webhook", "gitlab_issues/webhook_issue_close.json"),
    ],
)
def test_a_missing_project_is_a_configuration_error_before_any_call(
    user_data, mocked_http, event, fixture_name
):
    service = gitlab_issues(user_data, json_fixture(fixture_name), project="")
    with pytest.raises(ConfigurationError, match=r"\(project\)"):
        service.receive(event)
    assert len(mocked_http.calls) == 0


# --- releases ------------------------------------------------------------------------------------


def test_create_release_uses_the_named_phase_end_as_due_date(user_data, mocked_http):
    phases = f"{AHA}/releases/7102233445566778899/release_phases"
    mocked_http.get(phases, json=json_fixture("gitlab_issues/release_phases.json"))
    mocked_http.get(f"{PROJECT}/milestones", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    service = gitlab_issues(
        user_data, json_fixture("create_release_event.json"), due_date_phase="beta "
    )
    service.receive("create_release")
    assert sent(mocked_http) == [
        ("GET", f"{PROJECT}/milestones?title=Winter+launch"),
        ("GET", f"{phases}?page=1&per_page=100"),
        ("POST", f"{PROJECT}/milestones"),
        ("POST", f"{AHA}/releases/ACME-R-3/integrations/4242/fields"),
    ]
    assert_aha_call(mocked_http.calls[1])
    assert request_json(mocked_http.calls[2])["due_date"] == "2026-12-12"


@pytest.mark.parametrize("phase", ["Launch", "Code freeze"])
def test_an_unknown_or_open_ended_phase_falls_back_to_the_release_date(
    user_data, mocked_http, phase
):
    mocked_http.get(
        f"{AHA}/releases/7102233445566778899/release_phases",
        json=json_fixture("gitlab_issues/release_phases.json"),
    )
    mocked_http.put(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    event = with_milestone_link(json_fixture("update_release_event.json"))
    gitlab_issues(user_data, event, due_date_phase=phase).receive("update_release")
    assert request_json(mocked_http.calls[-1])["due_date"] == "2026-12-22"


def test_update_release_puts_title_due_date_and_close_when_released(user_data, mocked_http):
    mocked_http.put(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    event = with_milestone_link(json_fixture("update_release_event.json"))
    gitlab_issues(user_data, event).receive("update_release")
    assert sent(mocked_http) == [("PUT", f"{PROJECT}/milestones/771")]
    assert_gitlab_auth(mocked_http.calls[0])
    assert request_json(mocked_http.calls[0]) == {
        "title": "Winter launch",
        "due_date": "2026-12-22",
        "state_event": "close",
    }


def test_create_release_updates_a_linked_milestone_and_activates_it(user_data, mocked_http):
    mocked_http.put(f"{PROJECT}/milestones/771", json=json_fixture("gitlab_issues/milestone.json"))
    event = with_milestone_link(json_fixture("create_release_event.json"))
    gitlab_issues(user_data, event).receive("create_release")
    assert sent(mocked_http) == [("PUT", f"{PROJECT}/milestones/771")]
    assert request_json(mocked_http.calls[0]) == {
        "title": "Winter launch",
        "due_date": "2026-12-18",
        "state_event": "activate",
    }


def test_update_release_attaches_when_the_milestone_is_gone(user_data, mocked_http):
    mocked_http.put(f"{PROJECT}/milestones/771", status=404, json={"message": "404 Not found"})
    mocked_http.get(f"{PROJECT}/milestones", json=[])
    mocked_http.post(
        f"{PROJECT}/milestones",
        json={**json_fixture("gitlab_issues/milestone.json"), "id": 780, "iid": 7},
    )
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    event = with_milestone_link(json_fixture("update_release_event.json"))
    gitlab_issues(user_data, event).receive("update_release")
    assert [method for method, _ in sent(mocked_http)] == ["PUT", "GET", "POST", "POST"]
    assert request_json(mocked_http.calls[2]) == {
        "title": "Winter launch",
        "description": "Created from Aha! https://acme.aha.io/releases/ACME-R-3",
        "due_date": "2026-12-22",
    }
    assert request_json(mocked_http.calls[3])["integration_fields"][:2] == [
        {"name": "milestone_id", "value": 780},
        {"name": "number", "value": 7},
    ]


def test_a_created_object_without_ids_is_a_remote_error(user_data, mocked_http):
    mocked_http.get(f"{PROJECT}/milestones", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json={"message": "accepted"})
    with pytest.raises(RemoteError, match="new milestone without its id and iid"):
        gitlab_issues(user_data, json_fixture("create_release_event.json")).receive(
            "create_release"
        )
    assert len(mocked_http.calls) == 2


# --- gone records, field limits, records without a URL --------------------------------------


def test_a_linked_issue_answering_410_is_created_again(user_data, mocked_http):
    event = payload(
        "update_feature_event.json",
        release=None,
        integration_fields=[link("number", "318")],
        requirements=[],
    )
    mocked_http.put(f"{PROJECT}/issues/318", status=410, json={"message": "410 Gone"})
    mocked_http.post(f"{PROJECT}/issues", json=issue(62))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service = gitlab_issues(user_data, event)
    service.receive("update_feature")
    assert sent(mocked_http) == [
        ("PUT", f"{PROJECT}/issues/318"),
        ("POST", f"{PROJECT}/issues"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
    ]
    assert_gitlab_auth(mocked_http.calls[1])
    assert request_json(mocked_http.calls[1])["title"] == "Bulk export of invoices"
    assert request_json(mocked_http.calls[2]) == fields_body(
        id=880062, number=62, url="https://gitlab.example.com/finance/invoicing/-/issues/62"
    )
    assert {
        "severity": 2,
        "message": "The linked issue 318 is gone from GitLab; creating it again",
    } in service.logger.messages


def test_a_milestone_answering_410_on_update_is_attached_again(user_data, mocked_http):
    event = with_milestone_link(json_fixture("update_release_event.json"))
    mocked_http.put(f"{PROJECT}/milestones/771", status=410, json={"message": "410 Gone"})
    mocked_http.get(f"{PROJECT}/milestones?title=Winter+launch", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    gitlab_issues(user_data, event).receive("update_release")
    assert [method for method, _ in sent(mocked_http)] == ["PUT", "GET", "POST", "POST"]


def test_a_title_and_description_longer_than_gitlab_takes_are_cut(user_data, mocked_http):
    event = payload("create_feature_event.json", release=None, requirements=[])
    event["feature"]["name"] = "Invoices " * 40
    event["feature"]["description"]["body"] = "<p>" + "x" * 1_100_000 + "</p>"
    mocked_http.post(f"{PROJECT}/issues", json=issue(63))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    gitlab_issues(user_data, event).receive("create_feature")
    body = request_json(mocked_http.calls[0])
    assert len(body["title"]) == 255 and body["title"].endswith("…")
    assert len(body["description"]) <= 1_048_576
    assert body["description"].endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)\n\n"
        "Created from Aha! https://acme.aha.io/features/ACME-12"
    )
    assert GitlabIssues.field_limits == {
        "title": 255,
        "description": 1_048_576,
        "milestone_title": 255,
        "milestone_description": 1_048_576,
    }


def test_a_release_without_a_url_makes_a_milestone_without_a_created_from_line(
    user_data, mocked_http
):
    event = json_fixture("create_release_event.json")
    del event["release"]["url"]
    mocked_http.get(f"{PROJECT}/milestones", json=[])
    mocked_http.post(f"{PROJECT}/milestones", json=json_fixture("gitlab_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    gitlab_issues(user_data, event).receive("create_release")
    assert sent(mocked_http)[1] == ("POST", f"{PROJECT}/milestones")
    assert request_json(mocked_http.calls[1]) == {
        "title": "Winter launch",
        "description": "",
        "due_date": "2026-12-18",
    }
