import base64
import copy

import pytest

from services.core import ConfigurationError, InvalidUrlError, MissingSetting, RemoteError
from services.github_issues import GithubIssues
from spec.conftest import json_fixture, raw_fixture, request_json

API = "https://api.github.com"
REPO_API = f"{API}/repos/acme-finance/ledger"
AHA = "https://acme.aha.io/api/v1"
TOKEN = "ghp_Secr3tPersonalToken0042"
BASIC = "Basic " + base64.b64encode(f"maya-okafor:{TOKEN}".encode()).decode()
FEATURE_STATUS = "7000000000000000202"  # "Ready to develop" in create_feature_event.json
MILESTONE_URL = "https://github.com/acme-finance/ledger/milestone/7"

FEATURE_BODY = (
    "Finance teams need to export **all invoices** of a quarter at once. "
    "See [the spec](https://wiki.example.com/export).\n\n* CSV\n* PDF bundle\n\n"
    "mockup.png (https://cdn.aha.io/attachments/0001/mockup.png?1699999001)\n"
    "columns.csv (https://cdn.aha.io/attachments/0002/columns.csv?1699999002)\n\n"
    "Created from Aha! https://acme.aha.io/features/ACME-12"
)
REQUIREMENT_1_BODY = (
    "One row per invoice line. Columns as in the attachment.\n\n"
    "csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)\n\n"
    "Created from Aha! https://acme.aha.io/requirements/ACME-12-1"
)
REQUIREMENT_2_BODY = (
    "Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.\n\n"
    "Created from Aha! https://acme.aha.io/requirements/ACME-12-2"
)


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "username": "maya-okafor",
        "password": TOKEN,
        "repository": "acme-finance/ledger",
    }


def github_call(call, method, url, body=None):
    """One request to GitHub: its method, URL, Basic auth and JSON body."""
    assert (call.request.method, call.request.url) == (method, url)
    assert call.request.headers["Authorization"] == BASIC
    if body is not None:
        assert request_json(call) == body


def aha_fields_call(call, path, fields):
    assert (call.request.method, call.request.url) == (
        "POST",
        f"{AHA}/{path}/integrations/4242/fields",
    )
    assert call.request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"
    assert request_json(call) == {
        "integration_fields": [{"name": k, "value": v} for k, v in fields.items()]
    }


def issue(number, **fields):
    return {
        **json_fixture("github_issues/issue.json"),
        "number": number,
        "html_url": f"https://github.com/acme-finance/ledger/issues/{number}",
        **fields,
    }


def linked(record, **fields):
    """The record with this integration's links set (and another integration's, ignored)."""
    record["integration_fields"] = [
        {"name": name, "value": value, "integration_id": 4242} for name, value in fields.items()
    ] + [{"name": "number", "value": "999", "integration_id": 5151}]
    return record


def titles_found(mocked_http, *pages):
    """GitHub's milestone list answering with the given fixture pages, linked by Link headers."""
    url = f"{REPO_API}/milestones?state=all"
    for index, page in enumerate(pages):
        headers = {}
        if index + 1 < len(pages):
            headers["Link"] = f'<{REPO_API}/milestones?state=all&page={index + 2}>; rel="next"'
        mocked_http.get(url, json=json_fixture(page), headers=headers)
        url = f"{REPO_API}/milestones?state=all&page={index + 2}"


# --- schema ---------------------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (GithubIssues.service_name, GithubIssues.title) == ("github_issues", "GitHub Issues")
    assert [(f.type, f.name) for f in GithubIssues.schema] == [
        ("string", "username"),
        ("password", "password"),
        ("string", "server_url"),
        ("install_button", "install_button"),
        ("select", "repository"),
        ("select", "mapping"),
        ("internal", "status_mapping"),
        ("boolean", "add_status_labels"),
        ("callback_url", "callback_url"),
    ]
    assert GithubIssues.field_by_name("server_url").options["label"] == "Server URL"
    assert GithubIssues.field_by_name("mapping").options["collection"] == [
        ["Feature -> Issue, Requirement -> Issue", "issue-issue"],
        ["Feature -> Issue, Requirement -> Checklist item", "issue-checklist"],
    ]
    assert GithubIssues.field_by_name("repository").to_wire()["options"]["collection"] == (
        "remote_collection"
    )


def test_the_repository_select_lists_full_names_case_insensitively():
    collection = GithubIssues.field_by_name("repository").remote_collection
    meta_data = {"repos": [{"full_name": "zeta/app"}, {"full_name": "Acme/Ledger"}]}
    assert collection(meta_data, {}) == [["Acme/Ledger", "Acme/Ledger"], ["zeta/app", "zeta/app"]]
    assert collection({}, {}) == []


# --- installed ------------------------------------------------------------------------------


def test_installed_keeps_the_full_names_of_every_page_of_repositories(settings, mocked_http):
    second = f"{API}/user/repos?per_page=100&page=2"
    mocked_http.get(
        f"{API}/user/repos?per_page=100",
        body=raw_fixture("github_issues/repos_page_1.json"),
        content_type="application/json",
        headers={"Link": f'<{second}>; rel="next", <{second}>; rel="last"'},
    )
    mocked_http.get(second, json=json_fixture("github_issues/repos_page_2.json"))
    service = GithubIssues(settings, {}, {"kept": "yes"})
    service.receive("installed")
    assert service.meta_data_to_return() == {
        "kept": "yes",
        "repos": [
            {"full_name": "acme-finance/ledger"},
            {"full_name": "acme-finance/Billing-API"},
            {"full_name": "maya-okafor/dotfiles"},
        ],
    }
    github_call(mocked_http.calls[0], "GET", f"{API}/user/repos?per_page=100")
    github_call(mocked_http.calls[1], "GET", second)
    assert len(mocked_http.calls) == 2


def test_installed_on_github_enterprise_uses_the_server_url(settings, mocked_http):
    mocked_http.get("https://ghe.example.com/api/v3/user/repos?per_page=100", json=[])
    GithubIssues({**settings, "server_url": "https://ghe.example.com/api/v3/"}).receive("installed")
    github_call(
        mocked_http.calls[0], "GET", "https://ghe.example.com/api/v3/user/repos?per_page=100"
    )


def test_refused_credentials_are_a_configuration_error(settings, mocked_http):
    mocked_http.get(f"{API}/user/repos?per_page=100", status=401, json={"message": "Bad creds"})
    with pytest.raises(ConfigurationError) as raised:
        GithubIssues(settings).receive("installed")
    assert str(raised.value) == "GitHub rejected the credentials (401) for GET /user/repos"


def test_a_missing_token_is_named_before_any_request(settings, mocked_http):
    with pytest.raises(
        MissingSetting, match="the Password setting \\(password: a personal access token\\)"
    ):
        GithubIssues({**settings, "password": ""}).receive("installed")
    assert len(mocked_http.calls) == 0


# --- milestones -------------------------------------------------------------------------------


def test_create_release_links_the_milestone_of_the_same_title_from_all_pages(settings, mocked_http):
    titles_found(
        mocked_http, "github_issues/milestones_page_1.json", "github_issues/milestones_page_2.json"
    )
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, json_fixture("create_release_event.json")).receive("create_release")
    calls = mocked_http.calls
    github_call(calls[0], "GET", f"{REPO_API}/milestones?state=all")
    github_call(calls[1], "GET", f"{REPO_API}/milestones?state=all&page=2")
    aha_fields_call(calls[2], "releases/ACME-R-3", {"number": 7, "url": MILESTONE_URL})
    assert len(calls) == 3


def test_a_milestone_differing_only_in_case_is_taken_when_no_title_matches_exactly(
    settings, mocked_http
):
    titles_found(mocked_http, "github_issues/milestones_page_1.json")
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, json_fixture("create_release_event.json")).receive("create_release")
    aha_fields_call(
        mocked_http.calls[1],
        "releases/ACME-R-3",
        {"number": 5, "url": "https://github.com/acme-finance/ledger/milestone/5"},
    )


def test_create_release_creates_a_milestone_when_none_has_its_title(settings, mocked_http):
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[])
    mocked_http.post(
        f"{REPO_API}/milestones", status=201, json=json_fixture("github_issues/milestone.json")
    )
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, json_fixture("create_release_event.json")).receive("create_release")
    github_call(
        mocked_http.calls[1],
        "POST",
        f"{REPO_API}/milestones",
        {
            "title": "Winter launch",
            "description": "Created from Aha! https://acme.aha.io/releases/ACME-R-3",
            "due_on": "2026-12-18T00:00:00Z",
            "state": "open",
        },
    )
    aha_fields_call(mocked_http.calls[2], "releases/ACME-R-3", {"number": 7, "url": MILESTONE_URL})


def test_a_released_release_without_a_date_makes_a_closed_milestone_without_due_date(
    settings, mocked_http
):
    payload = json_fixture("create_release_event.json")
    payload["release"].update(released=True, release_date=None)
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[])
    mocked_http.post(f"{REPO_API}/milestones", json=json_fixture("github_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_release")
    sent = request_json(mocked_http.calls[1])
    assert (sent["state"], sent["due_on"]) == ("closed", None)


def test_create_release_reuses_the_linked_milestone_without_writing(settings, mocked_http):
    payload = json_fixture("create_release_event.json")
    linked(payload["release"], number="7", url=MILESTONE_URL)
    mocked_http.get(f"{REPO_API}/milestones/7", json=json_fixture("github_issues/milestone.json"))
    GithubIssues(settings, payload).receive("create_release")
    github_call(mocked_http.calls[0], "GET", f"{REPO_API}/milestones/7")
    assert len(mocked_http.calls) == 1


def test_a_linked_milestone_that_is_gone_is_found_or_made_again(settings, mocked_http):
    payload = json_fixture("create_release_event.json")
    linked(payload["release"], number="2")
    mocked_http.get(f"{REPO_API}/milestones/2", status=404, json={"message": "Not Found"})
    titles_found(mocked_http, "github_issues/milestones_page_2.json")
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    service = GithubIssues(settings, payload)
    service.receive("create_release")
    github_call(mocked_http.calls[1], "GET", f"{REPO_API}/milestones?state=all")
    aha_fields_call(mocked_http.calls[2], "releases/ACME-R-3", {"number": 7, "url": MILESTONE_URL})
    assert "The linked milestone 2 is gone from GitHub" in str(service.logger.messages)


def test_update_release_patches_the_linked_milestone(settings, mocked_http):
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(f"{REPO_API}/milestones/7", json=json_fixture("github_issues/milestone.json"))
    GithubIssues(settings, payload).receive("update_release")
    github_call(
        mocked_http.calls[0],
        "PATCH",
        f"{REPO_API}/milestones/7",
        {"title": "Winter launch", "due_on": "2026-12-22T00:00:00Z", "state": "closed"},
    )
    assert len(mocked_http.calls) == 1


def test_update_release_makes_the_milestone_again_when_the_linked_one_is_gone(
    settings, mocked_http
):
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(f"{REPO_API}/milestones/7", status=404, json={"message": "Not Found"})
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[])
    mocked_http.post(f"{REPO_API}/milestones", json={"number": 8, "html_url": "https://g/m/8"})
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("update_release")
    assert [c.request.method for c in mocked_http.calls] == ["PATCH", "GET", "POST", "POST"]
    assert request_json(mocked_http.calls[2])["state"] == "closed"
    aha_fields_call(
        mocked_http.calls[3], "releases/ACME-R-3", {"number": 8, "url": "https://g/m/8"}
    )


def test_update_release_without_a_link_finds_or_makes_the_milestone(settings, mocked_http):
    titles_found(mocked_http, "github_issues/milestones_page_2.json")
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, json_fixture("update_release_event.json")).receive("update_release")
    aha_fields_call(mocked_http.calls[1], "releases/ACME-R-3", {"number": 7, "url": MILESTONE_URL})


def test_a_server_error_is_a_remote_error_with_method_path_status_and_body(settings, mocked_http):
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(f"{REPO_API}/milestones/7", status=500, body="boom " * 200)
    with pytest.raises(RemoteError) as raised:
        GithubIssues(settings, payload).receive("update_release")
    message = str(raised.value)
    assert message.startswith(
        "GitHub: PATCH /repos/acme-finance/ledger/milestones/7 answered HTTP 500: boom boom"
    )
    assert len(message) < 600


# --- features and requirements --------------------------------------------------------------


def test_create_feature_makes_the_milestone_then_the_feature_then_each_requirement(
    settings, mocked_http
):
    titles_found(mocked_http, "github_issues/milestones_page_2.json")
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(513))
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(514))
    for path in ("releases/ACME-R-3", "features/ACME-12", "requirements/ACME-12-1"):
        mocked_http.post(f"{AHA}/{path}/integrations/4242/fields", json={})
    mocked_http.post(f"{AHA}/requirements/ACME-12-2/integrations/4242/fields", json={})
    GithubIssues(settings, json_fixture("create_feature_event.json")).receive("create_feature")

    calls = mocked_http.calls
    assert len(calls) == 8
    github_call(calls[0], "GET", f"{REPO_API}/milestones?state=all")
    aha_fields_call(calls[1], "releases/ACME-R-3", {"number": 7, "url": MILESTONE_URL})
    github_call(
        calls[2],
        "POST",
        f"{REPO_API}/issues",
        {
            "title": "Bulk export of invoices",
            "body": FEATURE_BODY,
            "milestone": 7,
            "labels": ["finance", "export"],
        },
    )
    aha_fields_call(
        calls[3],
        "features/ACME-12",
        {
            "number": 512,
            "url": "https://github.com/acme-finance/ledger/issues/512",
            "sent_from_aha": True,
        },
    )
    github_call(
        calls[4],
        "POST",
        f"{REPO_API}/issues",
        {"title": "Export as CSV", "body": REQUIREMENT_1_BODY, "milestone": 7, "labels": []},
    )
    aha_fields_call(
        calls[5],
        "requirements/ACME-12-1",
        {
            "number": 513,
            "url": "https://github.com/acme-finance/ledger/issues/513",
            "sent_from_aha": True,
        },
    )
    github_call(
        calls[6],
        "POST",
        f"{REPO_API}/issues",
        {
            "title": "Bundle the PDFs in one zip & name it by quarter",
            "body": REQUIREMENT_2_BODY,
            "milestone": 7,
            "labels": [],
        },
    )
    assert request_json(calls[7])["integration_fields"][0] == {"name": "number", "value": 514}


def test_a_feature_whose_status_maps_to_closed_is_closed_at_once(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    mocked_http.patch(f"{REPO_API}/issues/512", json=issue(512, state="closed"))
    mapping = {"open": "7000000000000000201", "closed": FEATURE_STATUS}
    GithubIssues({**settings, "status_mapping": mapping}, payload).receive("create_feature")
    assert request_json(mocked_http.calls[0])["milestone"] is None
    assert mocked_http.calls[1].request.url.startswith(AHA)
    github_call(mocked_http.calls[2], "PATCH", f"{REPO_API}/issues/512", {"state": "closed"})
    assert len(mocked_http.calls) == 3


def test_status_labels_add_the_aha_status_and_replace_other_status_tags(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    payload["feature"]["tags"] = ["finance", "Aha!:Shipped", "export"]
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues({**settings, "add_status_labels": "1"}, payload).receive("create_feature")
    assert request_json(mocked_http.calls[0])["labels"] == [
        "finance",
        "export",
        "Aha!:Ready to develop",
    ]


@pytest.mark.parametrize("switch", [True, "true", 1])
def test_status_labels_accept_the_ways_aha_stores_a_boolean(settings, mocked_http, switch):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues({**settings, "add_status_labels": switch}, payload).receive("create_feature")
    assert request_json(mocked_http.calls[0])["labels"][-1] == "Aha!:Ready to develop"


@pytest.mark.parametrize("switch", [False, "0", None, ""])
def test_status_labels_stay_off_otherwise(settings, mocked_http, switch):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues({**settings, "add_status_labels": switch}, payload).receive("create_feature")
    assert request_json(mocked_http.calls[0])["labels"] == ["finance", "export"]


def test_checklist_mapping_lists_the_requirements_in_the_feature_body(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"]["release"] = None
    payload["feature"]["requirements"][1]["workflow_status"]["complete"] = True
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(512))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues({**settings, "mapping": "issue-checklist"}, payload).receive("create_feature")
    assert len(mocked_http.calls) == 2
    body = request_json(mocked_http.calls[0])["body"]
    assert body == FEATURE_BODY.replace(
        "\n\nmockup.png",
        "\n\n- [ ] Export as CSV\n"
        "    One row per invoice line. Columns as in the attachment.\n"
        "    csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)\n"
        "- [x] Bundle the PDFs in one zip & name it by quarter\n"
        "    Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.\n\n"
        "mockup.png",
    )


def test_create_feature_updates_an_issue_that_is_already_linked(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    linked(payload["feature"], number="318", sent_from_aha=True)
    mocked_http.patch(f"{REPO_API}/issues/318", json=issue(318))
    GithubIssues(settings, payload).receive("create_feature")
    github_call(
        mocked_http.calls[0],
        "PATCH",
        f"{REPO_API}/issues/318",
        {
            "title": "Bulk export of invoices",
            "body": FEATURE_BODY,
            "milestone": None,
            "labels": ["finance", "export"],
        },
    )
    assert len(mocked_http.calls) == 1


def test_update_feature_patches_linked_issues_and_creates_the_missing_one(settings, mocked_http):
    titles_found(mocked_http, "github_issues/milestones_page_2.json")
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    mocked_http.patch(f"{REPO_API}/issues/318", json=issue(318))
    mocked_http.patch(f"{REPO_API}/issues/319", json=issue(319))
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(520))
    mocked_http.post(f"{AHA}/requirements/ACME-12-2/integrations/4242/fields", json={})
    mapping = {"open": "7000000000000000203", "closed": "7000000000000000299"}
    payload = json_fixture("update_feature_event.json")
    GithubIssues({**settings, "status_mapping": mapping}, payload).receive("update_feature")

    calls = mocked_http.calls
    assert [(c.request.method, c.request.url) for c in calls] == [
        ("GET", f"{REPO_API}/milestones?state=all"),
        ("POST", f"{AHA}/releases/ACME-R-3/integrations/4242/fields"),
        ("PATCH", f"{REPO_API}/issues/318"),
        ("PATCH", f"{REPO_API}/issues/319"),
        ("POST", f"{REPO_API}/issues"),
        ("POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"),
    ]
    # The feature's status is mapped to open: the issue is reopened if it was closed.
    github_call(
        calls[2],
        "PATCH",
        f"{REPO_API}/issues/318",
        {
            "title": "Bulk export of invoices",
            "body": FEATURE_BODY,
            "milestone": 7,
            "labels": ["finance", "export"],
            "state": "open",
        },
    )
    assert "state" not in request_json(calls[3])
    assert request_json(calls[3])["title"] == "Export as CSV"
    assert request_json(calls[4])["title"] == "Bundle the PDFs in one zip & name it by quarter"


def test_a_linked_issue_that_is_gone_is_created_and_linked_again(settings, mocked_http):
    payload = json_fixture("update_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    mocked_http.patch(f"{REPO_API}/issues/318", status=404, json={"message": "Not Found"})
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(530))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service = GithubIssues(settings, payload)
    service.receive("update_feature")
    github_call(mocked_http.calls[1], "POST", f"{REPO_API}/issues")
    assert "state" not in request_json(mocked_http.calls[1])
    aha_fields_call(
        mocked_http.calls[2],
        "features/ACME-12",
        {
            "number": 530,
            "url": "https://github.com/acme-finance/ledger/issues/530",
            "sent_from_aha": True,
        },
    )
    assert "The linked issue 318 is gone from GitHub" in str(service.logger.messages)


def test_a_failed_issue_creation_writes_no_link(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None)
    mocked_http.post(f"{REPO_API}/issues", status=422, json={"message": "Validation Failed"})
    with pytest.raises(RemoteError, match="POST /repos/acme-finance/ledger/issues .* HTTP 422"):
        GithubIssues(settings, payload).receive("create_feature")
    assert len(mocked_http.calls) == 1


def test_an_answer_that_is_not_an_object_is_a_remote_error(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None)
    mocked_http.post(f"{REPO_API}/issues", status=201, body="")
    with pytest.raises(RemoteError, match="did not answer with a JSON object"):
        GithubIssues(settings, payload).receive("create_feature")


@pytest.mark.parametrize(
    ("event", "fixture_name"),
    [
        ("create_feature", "create_feature_event.json"),
        ("update_feature", "update_feature_event.json"),
        ("create_release", "create_release_event.json"),
        ("update_release", "update_release_event.json"),
    ],
)
def test_a_missing_repository_is_named_before_any_request(
    settings, mocked_http, event, fixture_name
):
    with pytest.raises(MissingSetting, match="the Repository setting \\(repository\\) is not set"):
        GithubIssues({**settings, "repository": ""}, json_fixture(fixture_name)).receive(event)
    assert len(mocked_http.calls) == 0


def test_a_repository_that_is_not_owner_slash_name_is_a_configuration_error(settings, mocked_http):
    with pytest.raises(ConfigurationError, match="'ledger' is not of the form owner/name"):
        GithubIssues(
            {**settings, "repository": "ledger"}, json_fixture("create_feature_event.json")
        ).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_github_enterprise_paths_go_under_the_server_url(settings, mocked_http):
    base = "https://ghe.example.com/api/v3"
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(f"{base}/repos/acme-finance/ledger/milestones/7", json={"number": 7})
    GithubIssues({**settings, "server_url": base + "/"}, payload).receive("update_release")
    github_call(mocked_http.calls[0], "PATCH", f"{base}/repos/acme-finance/ledger/milestones/7")


def test_a_private_server_url_is_refused(settings, mocked_http):
    with pytest.raises(InvalidUrlError):
        GithubIssues({**settings, "server_url": "https://intranet.example.com/api/v3"}).receive(
            "installed"
        )
    assert len(mocked_http.calls) == 0


def test_an_allowed_local_server_is_reached_over_plain_http(settings, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.get("http://127.0.0.1:8089/api/v3/user/repos?per_page=100", json=[])
    GithubIssues({**settings, "server_url": "http://127.0.0.1:8089/api/v3"}).receive("installed")
    github_call(mocked_http.calls[0], "GET", "http://127.0.0.1:8089/api/v3/user/repos?per_page=100")


def test_the_token_never_reaches_a_log_line_or_an_error(settings, mocked_http):
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(
        f"{REPO_API}/milestones/7", status=500, json={"message": f"bad token {TOKEN}"}
    )
    service = GithubIssues(settings, copy.deepcopy(payload))
    with pytest.raises(RemoteError) as raised:
        service.receive("update_release")
    assert TOKEN not in str(raised.value)
    assert "[FILTERED]" in str(raised.value)
    assert TOKEN not in str(service.logger.messages)
    assert BASIC.split()[1] not in str(service.logger.messages)


def test_other_events_are_ignored(settings, mocked_http):
    GithubIssues(settings).receive("audit")
    assert len(mocked_http.calls) == 0
    assert GithubIssues.responds_to_events() == [
        "create_feature",
        "create_release",
        "installed",
        "update_feature",
        "update_release",
        "webhook",
    ]


# --- gone records, field limits, records without a URL --------------------------------------


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (
            410,
            {"message": "This issue was deleted", "documentation_url": "https://docs.github.com"},
        ),
        (404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}),
    ],
)
def test_an_issue_github_says_is_deleted_is_created_and_linked_again(
    settings, mocked_http, status, answer
):
    payload = json_fixture("update_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    linked(payload["feature"], number="7", sent_from_aha=True)
    mocked_http.patch(f"{REPO_API}/issues/7", status=status, json=answer)
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(531))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service = GithubIssues(settings, payload)
    service.receive("update_feature")
    assert len(mocked_http.calls) == 3
    github_call(mocked_http.calls[0], "PATCH", f"{REPO_API}/issues/7")
    github_call(
        mocked_http.calls[1],
        "POST",
        f"{REPO_API}/issues",
        {
            "title": "Bulk export of invoices",
            "body": FEATURE_BODY,
            "milestone": None,
            "labels": ["finance", "export"],
        },
    )
    aha_fields_call(
        mocked_http.calls[2],
        "features/ACME-12",
        {
            "number": 531,
            "url": "https://github.com/acme-finance/ledger/issues/531",
            "sent_from_aha": True,
        },
    )
    assert {
        "severity": 2,
        "message": "The linked issue 7 is gone from GitHub; creating it again",
    } in service.logger.messages


def test_a_deleted_milestone_is_made_again(settings, mocked_http):
    payload = json_fixture("update_release_event.json")
    linked(payload["release"], number="7")
    mocked_http.patch(f"{REPO_API}/milestones/7", status=410, json={"message": "Gone"})
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[])
    mocked_http.post(f"{REPO_API}/milestones", json={"number": 9, "html_url": "https://g/m/9"})
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("update_release")
    assert [c.request.method for c in mocked_http.calls] == ["PATCH", "GET", "POST", "POST"]
    aha_fields_call(
        mocked_http.calls[3], "releases/ACME-R-3", {"number": 9, "url": "https://g/m/9"}
    )


def test_other_refusals_of_a_linked_issue_are_not_taken_for_gone(settings, mocked_http):
    payload = json_fixture("update_feature_event.json")
    payload["feature"].update(release=None, requirements=[])
    mocked_http.patch(f"{REPO_API}/issues/318", status=422, json={"message": "Validation Failed"})
    with pytest.raises(RemoteError, match="PATCH /repos/acme-finance/ledger/issues/318 .* 422"):
        GithubIssues(settings, payload).receive("update_feature")
    assert len(mocked_http.calls) == 1


def test_a_description_longer_than_github_takes_is_cut_keeping_the_origin_line(
    settings, mocked_http
):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[], name="Ledger " * 60)
    payload["feature"]["description"]["body"] = "<p>" + "invoice " * 11_000 + "</p>"
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(540))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_feature")
    github_call(mocked_http.calls[0], "POST", f"{REPO_API}/issues")
    sent = request_json(mocked_http.calls[0])
    assert len(sent["body"]) <= 65_536
    assert len(sent["body"]) > 65_000
    assert sent["body"].startswith("invoice invoice")
    assert sent["body"].endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)"
        "\n\nCreated from Aha! https://acme.aha.io/features/ACME-12"
    )
    assert len(sent["title"]) == 256
    assert sent["title"] == ("Ledger " * 60)[:255] + "…"
    assert GithubIssues.field_limits == {
        "title": 256,
        "body": 65_536,
        "milestone_title": 256,
        "milestone_description": 65_536,
    }


def test_a_less_than_sign_early_in_a_long_description_keeps_the_text_after_it(
    settings, mocked_http
):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[], name="Totals where a < b " * 20)
    body = "<p>Only when a &lt; b. " + "invoice " * 11_000 + "</p>"
    payload["feature"]["description"]["body"] = body
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(541))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_feature")
    sent = request_json(mocked_http.calls[0])
    assert 65_000 < len(sent["body"]) <= 65_536
    assert sent["body"].startswith("Only when a < b. invoice invoice")
    assert len(sent["title"]) == 256
    assert sent["title"] == ("Totals where a < b " * 20)[:255].rstrip() + "…"


def test_a_release_title_longer_than_a_milestone_takes_is_cut_and_looked_for_cut(
    settings, mocked_http
):
    payload = json_fixture("create_release_event.json")
    payload["release"]["name"] = "Winter " * 50
    cut = ("Winter " * 50)[:255].rstrip() + "…"
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[{"number": 4, "title": cut}])
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_release")
    assert [c.request.method for c in mocked_http.calls] == ["GET", "POST"]
    assert request_json(mocked_http.calls[1])["integration_fields"][0] == {
        "name": "number",
        "value": 4,
    }


def test_a_release_without_a_url_gets_no_created_from_line(settings, mocked_http):
    payload = json_fixture("create_release_event.json")
    del payload["release"]["url"]
    mocked_http.get(f"{REPO_API}/milestones?state=all", json=[])
    mocked_http.post(f"{REPO_API}/milestones", json=json_fixture("github_issues/milestone.json"))
    mocked_http.post(f"{AHA}/releases/ACME-R-3/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_release")
    github_call(
        mocked_http.calls[1],
        "POST",
        f"{REPO_API}/milestones",
        {
            "title": "Winter launch",
            "description": "",
            "due_on": "2026-12-18T00:00:00Z",
            "state": "open",
        },
    )


def test_an_issue_for_a_record_without_a_url_ends_with_its_text(settings, mocked_http):
    payload = json_fixture("create_feature_event.json")
    payload["feature"].update(release=None, requirements=[], url=None)
    payload["feature"]["description"]["attachments"] = []
    mocked_http.post(f"{REPO_API}/issues", status=201, json=issue(541))
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    GithubIssues(settings, payload).receive("create_feature")
    body = request_json(mocked_http.calls[0])["body"]
    assert "Created from" not in body and "None" not in body
    assert body.endswith("* CSV\n* PDF bundle")
