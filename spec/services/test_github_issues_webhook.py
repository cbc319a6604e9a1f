import json

import pytest

from services.core import InvalidUrlError, MissingSetting
from services.github_issues import GithubIssues
from spec.conftest import json_fixture, request_json
from spec.services.test_github_issues import BASIC, REPO_API, TOKEN

AHA = "https://acme.aha.io/api/v1"
SEARCH = f"{AHA}/integrations/4242/fields/number/value/318"
FEATURE_PUT = f"{AHA}/features/ACME-12"
IN_DEVELOPMENT = "7000000000000000203"
SHIPPED = "7000000000000000299"
MAPPING = {"open": IN_DEVELOPMENT, "closed": SHIPPED}


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "username": "maya-okafor",
        "password": TOKEN,
        "repository": "acme-finance/ledger",
        "status_mapping": MAPPING,
    }


def event(action="closed", state=None, labels=None, **issue):
    """The issues event fixture with another action, state, labels or issue fields."""
    body = json_fixture("github_issues/issues_event.json")
    body["action"] = action
    body["issue"]["state"] = state or ("closed" if action == "closed" else "open")
    if labels is not None:
        body["issue"]["labels"] = [{"name": name} for name in labels]
    body["issue"].update(issue)
    return body


def search_answer(**feature_changes):
    answer = json_fixture("github_issues/linked_feature.json")
    answer["records"][0]["feature"].update(feature_changes)
    return answer


def linked_search(mocked_http, answer=None):
    mocked_http.get(SEARCH, json=answer or search_answer())


def the_put(mocked_http):
    puts = [c for c in mocked_http.calls if c.request.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].request.url == FEATURE_PUT
    assert puts[0].request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"
    return request_json(puts[0])


def github_calls(mocked_http):
    return [c for c in mocked_http.calls if c.request.url.startswith(REPO_API)]


def aha_answer(status_name):
    return {"feature": {"reference_num": "ACME-12", "workflow_status": {"name": status_name}}}


def test_a_closed_issue_moves_the_feature_to_the_mapped_status(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    GithubIssues(settings, event("closed")).receive("webhook")
    assert mocked_http.calls[0].request.url == SEARCH
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}
    assert github_calls(mocked_http) == []


def test_a_reopened_issue_moves_the_feature_back(settings, mocked_http):
    linked_search(mocked_http, search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.put(FEATURE_PUT, json=aha_answer("In development"))
    GithubIssues(settings, event("reopened")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": IN_DEVELOPMENT}}


@pytest.mark.parametrize("wrap", [json.dumps, lambda body: body])
def test_the_event_may_come_under_payload_as_json_text_or_an_object(settings, mocked_http, wrap):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    GithubIssues(settings, {"payload": wrap(event("closed"))}).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}


def test_a_changed_title_renames_the_feature(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    GithubIssues(settings, event("edited", title="Quarterly invoice export")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"name": "Quarterly invoice export"}}


def test_nothing_is_put_when_nothing_changed(settings, mocked_http):
    linked_search(mocked_http)
    service = GithubIssues(settings, event("edited"))
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_without_a_status_mapping_the_status_is_left_alone(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    del settings["status_mapping"]
    GithubIssues(settings, event("closed", labels=["finance"])).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"tags": ["finance"]}}


def test_an_unmapped_state_changes_nothing(settings, mocked_http):
    linked_search(mocked_http)
    settings["status_mapping"] = {"open": IN_DEVELOPMENT}
    GithubIssues(settings, event("closed")).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_the_repository_is_compared_without_case(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    body = event("closed")
    body["repository"]["full_name"] = "Acme-Finance/Ledger"
    GithubIssues(settings, body).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}


def test_an_event_of_another_repository_is_ignored(settings, mocked_http):
    body = event("closed")
    body["repository"]["full_name"] = "acme-finance/other"
    service = GithubIssues(settings, body)
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert "Ignoring an event of acme-finance/other, not of" in str(service.logger.messages)


@pytest.mark.parametrize("missing", ["action", "issue", "repository"])
def test_an_event_without_action_issue_or_repository_is_ignored(settings, mocked_http, missing):
    body = event("closed")
    del body[missing]
    GithubIssues(settings, body).receive("webhook")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"payload": "not json"},
        {"payload": "[1]"},
        {"zen": "Keep it logically awesome."},
        event("closed", number=None),
        {**event("closed"), "issue": "318"},
    ],
)
def test_a_body_that_is_not_an_issues_event_is_ignored(settings, mocked_http, payload):
    GithubIssues(settings, payload).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_an_unlinked_issue_is_a_warning(settings, mocked_http):
    mocked_http.get(SEARCH, json={"records": [{"release": {"reference_num": "ACME-R-3"}}]})
    service = GithubIssues(settings, event("closed"))
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert service.logger.messages[-1] == {
        "severity": 2,
        "message": "number 318 is not linked to a record in Aha!; nothing changed",
    }


def test_an_issue_linked_to_several_records_changes_none(settings, mocked_http):
    records = search_answer()["records"]
    records.append({"requirement": {"reference_num": "ACME-14-1"}})
    mocked_http.get(SEARCH, json={"records": records})
    service = GithubIssues(settings, event("closed"))
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert "2 Aha! records are linked to number 318" in service.logger.messages[-1]["message"]


def test_a_linked_requirement_is_put_as_a_requirement(settings, mocked_http):
    requirement = {
        "reference_num": "ACME-12-1",
        "name": "Export as CSV",
        "workflow_status": {"id": IN_DEVELOPMENT},
        "tags": [],
        "resource": "https://elsewhere.example.com/api/v1/requirements/ACME-12-1",
    }
    mocked_http.get(SEARCH, json={"records": [{"requirement": requirement}]})
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    GithubIssues(settings, event("closed", labels=[], title="Export as CSV")).receive("webhook")
    put = mocked_http.calls[1]
    assert put.request.url == f"{AHA}/requirements/ACME-12-1"
    assert request_json(put) == {"requirement": {"workflow_status": SHIPPED}}


def test_an_issue_opened_on_github_sets_the_mapped_status(settings, mocked_http):
    answer = search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"})
    answer["records"][0]["feature"]["integration_fields"].pop()  # not sent from Aha!
    linked_search(mocked_http, answer)
    mocked_http.put(FEATURE_PUT, json={})
    GithubIssues(settings, event("opened")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": IN_DEVELOPMENT}}


def test_an_issue_sent_from_aha_is_closed_when_its_status_maps_to_closed(settings, mocked_http):
    linked_search(mocked_http, search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.patch(f"{REPO_API}/issues/318", json={"number": 318})
    GithubIssues(settings, event("opened")).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET", "PATCH"]
    patch = mocked_http.calls[1]
    assert patch.request.url == f"{REPO_API}/issues/318"
    assert patch.request.headers["Authorization"] == BASIC
    assert request_json(patch) == {"state": "closed"}


@pytest.mark.parametrize("status_id", [IN_DEVELOPMENT, "7000000000000000404"])
def test_an_issue_sent_from_aha_keeps_an_open_or_unmapped_status(settings, mocked_http, status_id):
    linked_search(mocked_http, search_answer(workflow_status={"id": status_id, "name": "X"}))
    GithubIssues(settings, event("opened")).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_label_changes_become_tags_without_status_labels(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    labels = ["finance", "export", "urgent", "Aha!:In development"]
    GithubIssues(settings, event("labeled", labels=labels)).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"tags": ["finance", "export", "urgent"]}}
    assert github_calls(mocked_http) == []


def test_a_removed_label_is_removed_from_the_tags(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    GithubIssues(settings, event("unlabeled", labels=["export"])).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"tags": ["export"]}}


def test_the_same_labels_in_another_order_change_no_tags(settings, mocked_http):
    linked_search(mocked_http)
    GithubIssues(settings, event("labeled", labels=["export", "finance"])).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_an_opened_event_does_not_sync_tags(settings, mocked_http):
    linked_search(mocked_http, search_answer(workflow_status={"id": IN_DEVELOPMENT}))
    GithubIssues(settings, event("opened", labels=["other"])).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_a_status_label_sets_the_status_and_surplus_status_labels_go(settings, mocked_http):
    settings["add_status_labels"] = "1"
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    mocked_http.patch(f"{REPO_API}/issues/318", json={"number": 318})
    labels = ["finance", "Aha!:In development", "export", "Aha!:Shipped"]
    GithubIssues(settings, event("labeled", labels=labels)).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": "Shipped"}}
    patch = github_calls(mocked_http)
    assert len(patch) == 1
    assert patch[0].request.method == "PATCH"
    assert request_json(patch[0]) == {"labels": ["finance", "export", "Aha!:Shipped"]}


def test_the_current_status_label_changes_nothing(settings, mocked_http):
    settings["add_status_labels"] = True
    linked_search(mocked_http)
    labels = ["finance", "export", "Aha!:In development"]
    GithubIssues(settings, event("labeled", labels=labels)).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_after_a_close_the_status_label_follows_the_new_status(settings, mocked_http):
    settings["add_status_labels"] = "1"
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    mocked_http.patch(f"{REPO_API}/issues/318", json={"number": 318})
    GithubIssues(settings, event("closed")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}
    patch = github_calls(mocked_http)[0]
    assert (patch.request.method, patch.request.url) == ("PATCH", f"{REPO_API}/issues/318")
    assert request_json(patch) == {"labels": ["finance", "export", "Aha!:Shipped"]}


def test_an_issue_sent_from_aha_gets_its_status_label_and_state_in_one_call(settings, mocked_http):
    settings["add_status_labels"] = "1"
    linked_search(mocked_http, search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.patch(f"{REPO_API}/issues/318", json={"number": 318})
    GithubIssues(settings, event("opened", labels=["finance", "export"])).receive("webhook")
    patch = github_calls(mocked_http)
    assert len(patch) == 1
    assert request_json(patch[0]) == {
        "state": "closed",
        "labels": ["finance", "export", "Aha!:Shipped"],
    }


def test_a_status_label_already_right_is_left_alone_after_a_reopen(settings, mocked_http):
    settings["add_status_labels"] = "1"
    linked_search(mocked_http, search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.put(FEATURE_PUT, json=aha_answer("In development"))
    GithubIssues(settings, event("reopened")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": IN_DEVELOPMENT}}
    assert github_calls(mocked_http) == []


def test_the_put_goes_to_the_configured_aha_base(settings, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_API_URL", "https://aha.internal.example.com")
    mocked_http.get(
        "https://aha.internal.example.com/api/v1/integrations/4242/fields/number/value/318",
        json=search_answer(resource="https://evil.example.com/api/v1/features/ACME-12"),
    )
    mocked_http.put("https://aha.internal.example.com/api/v1/features/ACME-12", json={})
    GithubIssues(settings, event("closed")).receive("webhook")
    assert mocked_http.calls[1].request.url == (
        "https://aha.internal.example.com/api/v1/features/ACME-12"
    )


def test_a_webhook_without_a_repository_setting_is_a_configuration_error(settings, mocked_http):
    with pytest.raises(MissingSetting, match="Repository"):
        GithubIssues({**settings, "repository": ""}, event("closed")).receive("webhook")
    assert len(mocked_http.calls) == 0


# --- pull requests --------------------------------------------------------------------------


def pull_request_event(action="closed", merged=True, **pull_request):
    """GitHub's pull_request event for number 318, with another action or merge state."""
    body = json_fixture("github_issues/pull_request_event.json")
    body["action"] = action
    closed = action == "closed"
    body["pull_request"].update(
        state="closed" if closed else "open",
        merged=closed and merged,
        merged_at=body["pull_request"]["merged_at"] if closed and merged else None,
        closed_at=body["pull_request"]["closed_at"] if closed else None,
        **pull_request,
    )
    return body


@pytest.mark.parametrize("merged", [True, False])
def test_a_closed_pull_request_moves_the_feature_merged_or_not(settings, mocked_http, merged):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    GithubIssues(settings, pull_request_event("closed", merged=merged)).receive("webhook")
    assert mocked_http.calls[0].request.url == SEARCH
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}
    assert github_calls(mocked_http) == []


def test_a_reopened_pull_request_moves_the_feature_back(settings, mocked_http):
    linked_search(mocked_http, search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.put(FEATURE_PUT, json=aha_answer("In development"))
    GithubIssues(settings, pull_request_event("reopened")).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": IN_DEVELOPMENT}}


def test_an_edited_pull_request_title_renames_the_feature(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json={})
    body = pull_request_event("edited", title="Quarterly invoice export")
    body["changes"] = {"title": {"from": "Bulk export of invoices"}}
    GithubIssues(settings, body).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"name": "Quarterly invoice export"}}


def test_a_pull_request_event_as_form_encoded_payload_text(settings, mocked_http):
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    body = {"payload": json.dumps(pull_request_event("closed", merged=False))}
    GithubIssues(settings, body).receive("webhook")
    assert the_put(mocked_http) == {"feature": {"workflow_status": SHIPPED}}


def test_status_labels_of_a_closed_pull_request_are_set_right_on_its_issue(settings, mocked_http):
    settings["add_status_labels"] = True
    linked_search(mocked_http)
    mocked_http.put(FEATURE_PUT, json=aha_answer("Shipped"))
    mocked_http.patch(f"{REPO_API}/issues/318", json={"number": 318})
    GithubIssues(settings, pull_request_event("closed")).receive("webhook")
    (patch,) = github_calls(mocked_http)
    assert (patch.request.method, patch.request.url) == ("PATCH", f"{REPO_API}/issues/318")
    assert patch.request.headers["Authorization"] == BASIC
    assert request_json(patch) == {"labels": ["finance", "export", "Aha!:Shipped"]}


def test_a_pull_request_of_another_repository_is_ignored(settings, mocked_http):
    body = pull_request_event("closed")
    body["repository"]["full_name"] = "acme-finance/other"
    GithubIssues(settings, body).receive("webhook")
    assert len(mocked_http.calls) == 0


def test_a_pull_request_event_without_its_pull_request_is_ignored(settings, mocked_http):
    body = pull_request_event("closed")
    del body["pull_request"]
    service = GithubIssues(settings, body)
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert "not a GitHub issues or pull_request event" in str(service.logger.messages)


def test_a_title_github_holds_cut_to_its_limit_is_not_a_rename(settings, mocked_http):
    long_name = "Export " * 50
    linked_search(mocked_http, search_answer(name=long_name))
    GithubIssues(settings, event("edited", title=long_name[:255] + "…")).receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_a_refused_server_url_stops_the_webhook_before_aha_is_asked_or_changed(
    mocked_http, settings
):
    linked_search(mocked_http)
    refused = {**settings, "server_url": "http://127.0.0.1:9/api/v3"}
    service = GithubIssues(refused, event())

    with pytest.raises(InvalidUrlError, match=r"^server_url: .*127\.0\.0\.1"):
        service.receive("webhook")

    assert len(mocked_http.calls) == 0
