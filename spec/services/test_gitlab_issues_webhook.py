import copy

import pytest

from services.core import ConfigurationError, RemoteError
from services.core.logger import Severity
from spec.conftest import json_fixture, request_json
from spec.services.test_gitlab_issues import (
    AHA,
    IN_DEVELOPMENT,
    PROJECT,
    TOKEN,
    assert_aha_call,
    assert_gitlab_auth,
    gitlab_issues,
    sent,
)

SEARCH = f"{AHA}/integrations/4242/fields/id/value/880052"
FEATURE = f"{AHA}/features/ACME-12"
SHIPPED = "7000000000000000209"
MAPPING = {"open": IN_DEVELOPMENT, "closed": SHIPPED}


def body(name="close", **attributes):
    hook = json_fixture(f"gitlab_issues/webhook_issue_{name}.json")
    hook["object_attributes"].update(attributes)
    return hook


def search_answer(**feature_changes):
    answer = json_fixture("gitlab_issues/search_feature.json")
    answer["records"][0]["feature"].update(feature_changes)
    return answer


def updated_feature(status_name, status_id=SHIPPED):
    feature = copy.deepcopy(search_answer()["records"][0]["feature"])
    feature["workflow_status"] = {"id": status_id, "name": status_name}
    return {"feature": feature}


def receive(user_data, hook, **settings):
    service = gitlab_issues(user_data, hook, **settings)
    service.receive("webhook")
    return service


def test_closing_an_issue_moves_the_feature_to_the_closed_status(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Shipped"))
    receive(user_data, body("close"), status_mapping=MAPPING)
    assert sent(mocked_http) == [("GET", SEARCH), ("PUT", FEATURE)]
    assert_aha_call(mocked_http.calls[0])
    assert_aha_call(mocked_http.calls[1])
    assert request_json(mocked_http.calls[1]) == {"feature": {"workflow_status": SHIPPED}}


@pytest.mark.parametrize("action", ["reopen", "open"])
def test_reopening_or_opening_maps_to_the_open_status(user_data, mocked_http, action):
    mocked_http.get(SEARCH, json=search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    mocked_http.put(FEATURE, json=updated_feature("In development", IN_DEVELOPMENT))
    receive(user_data, body("close", action=action, state="opened"), status_mapping=MAPPING)
    assert request_json(mocked_http.calls[1])["feature"]["workflow_status"] == IN_DEVELOPMENT


def test_without_a_status_mapping_nothing_changes_and_nothing_crashes(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    service = receive(user_data, body("close"))
    assert sent(mocked_http) == [("GET", SEARCH)]
    assert service.logger.messages[-1]["message"] == "No change for feature ACME-12"


def test_an_unmapped_or_unchanged_status_sends_nothing(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer(workflow_status={"id": SHIPPED, "name": "Shipped"}))
    receive(user_data, body("close"), status_mapping=MAPPING)
    assert sent(mocked_http) == [("GET", SEARCH)]


def test_an_edit_renames_and_retags_the_feature(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("In development", IN_DEVELOPMENT))
    receive(user_data, body("update"), status_mapping=MAPPING)
    assert sent(mocked_http) == [("GET", SEARCH), ("PUT", FEATURE)]
    assert request_json(mocked_http.calls[1]) == {
        "feature": {
            "name": "Bulk export of invoices (CSV and PDF)",
            "tags": ["export", "quarter-end"],
        }
    }


def test_a_status_label_sets_the_status_and_surplus_ones_are_removed(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Ready to ship"))
    mocked_http.put(f"{PROJECT}/issues/52", json={})
    service = receive(user_data, body("update"), add_status_labels="1")
    assert sent(mocked_http) == [("GET", SEARCH), ("PUT", FEATURE), ("PUT", f"{PROJECT}/issues/52")]
    assert request_json(mocked_http.calls[1]) == {
        "feature": {
            "name": "Bulk export of invoices (CSV and PDF)",
            "workflow_status": "Ready to ship",
            "tags": ["export", "quarter-end"],
        }
    }
    assert_gitlab_auth(mocked_http.calls[2])
    assert request_json(mocked_http.calls[2]) == {"labels": "export,quarter-end,Aha!:Ready to ship"}
    assert all(TOKEN not in m["message"] for m in service.logger.messages)


def test_without_changes_listed_the_last_status_label_wins(user_data, mocked_http):
    hook = body("update", title="Bulk export of invoices")
    del hook["changes"]
    status = {"id": "7000000000000000202", "name": "Ready to develop"}
    mocked_http.get(
        SEARCH, json=search_answer(tags=["export", "quarter-end"], workflow_status=status)
    )
    mocked_http.put(FEATURE, json=updated_feature("In development", IN_DEVELOPMENT))
    mocked_http.put(f"{PROJECT}/issues/52", json={})
    receive(user_data, hook, add_status_labels=True)
    assert request_json(mocked_http.calls[1]) == {"feature": {"workflow_status": "In development"}}
    assert request_json(mocked_http.calls[2]) == {
        "labels": "export,quarter-end,Aha!:In development"
    }


def test_our_own_label_fix_echoing_back_changes_nothing(user_data, mocked_http):
    hook = body("update", title="Bulk export of invoices")
    del hook["changes"]
    hook["labels"] = [{"title": "export"}, {"title": "Aha!:In development"}]
    mocked_http.get(SEARCH, json=search_answer(tags=["export"]))
    receive(user_data, hook, add_status_labels="1")
    assert sent(mocked_http) == [("GET", SEARCH)]


def test_status_labels_are_ignored_when_the_setting_is_off(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer(tags=["export", "quarter-end"]))
    receive(user_data, body("update", title="Bulk export of invoices"), add_status_labels="0")
    assert sent(mocked_http) == [("GET", SEARCH)]


def test_after_closing_the_status_label_follows_the_new_status(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Shipped"))
    mocked_http.put(f"{PROJECT}/issues/52", json={})
    receive(user_data, body("close"), status_mapping=MAPPING, add_status_labels=1)
    assert sent(mocked_http) == [("GET", SEARCH), ("PUT", FEATURE), ("PUT", f"{PROJECT}/issues/52")]
    assert request_json(mocked_http.calls[2]) == {"labels": "finance,export,Aha!:Shipped"}


def test_a_linked_requirement_is_updated_at_its_own_path(user_data, mocked_http):
    requirement = {
        "reference_num": "ACME-12-1",
        "name": "Export as CSV",
        "workflow_status": {"id": IN_DEVELOPMENT, "name": "In development"},
        "resource": "https://acme.aha.io/api/v1/requirements/ACME-12-1",
    }
    mocked_http.get(SEARCH, json={"records": [{"requirement": requirement}]})
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    hook = body("close", title="Export as CSV")
    del hook["labels"], hook["object_attributes"]["labels"]
    receive(user_data, hook, status_mapping=MAPPING)
    assert sent(mocked_http)[-1] == ("PUT", f"{AHA}/requirements/ACME-12-1")
    assert request_json(mocked_http.calls[-1]) == {"requirement": {"workflow_status": SHIPPED}}


def test_the_aha_token_goes_only_to_the_configured_base(user_data, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_API_URL", "https://aha.internal.example.com")
    evil = "https://evil.example.com/api/v1/features/ACME-12"
    mocked_http.get(
        "https://aha.internal.example.com/api/v1/integrations/4242/fields/id/value/880052",
        json=search_answer(resource=evil),
    )
    mocked_http.put("https://aha.internal.example.com/api/v1/features/ACME-12", json={})
    receive(user_data, body("close"), status_mapping=MAPPING)
    assert sent(mocked_http)[-1] == (
        "PUT",
        "https://aha.internal.example.com/api/v1/features/ACME-12",
    )


@pytest.mark.parametrize(
    ("records", "warning"),
    [
        ([], "id 880052 is not linked to a record in Aha!; nothing changed"),
        (
            [{"release": {"reference_num": "ACME-R-3"}}],
            "id 880052 is not linked to a record in Aha!; nothing changed",
        ),
        (
            [{"feature": {"reference_num": "ACME-12"}}, {"feature": {"reference_num": "ACME-14"}}],
            "2 Aha! records are linked to id 880052; none was changed",
        ),
    ],
)
def test_unlinked_or_ambiguous_issues_change_nothing(user_data, mocked_http, records, warning):
    mocked_http.get(SEARCH, json={"records": records})
    service = receive(user_data, body("close"), status_mapping=MAPPING)
    assert sent(mocked_http) == [("GET", SEARCH)]
    assert {"severity": Severity.WARN, "message": warning} in service.logger.messages


def test_a_renamed_project_is_recognised_by_its_id(user_data, mocked_http):
    hook = body("close")
    hook["project"]["path_with_namespace"] = "billing/invoicing"
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Shipped"))
    receive(user_data, hook, status_mapping=MAPPING)
    assert sent(mocked_http)[-1] == ("PUT", FEATURE)


def test_a_project_never_listed_is_recognised_by_its_path(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Shipped"))
    service = gitlab_issues(
        user_data, body("close"), meta_data={}, project="Finance/Invoicing", status_mapping=MAPPING
    )
    service.receive("webhook")
    assert sent(mocked_http)[-1] == ("PUT", FEATURE)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda hook: hook.update(object_kind="merge_request"),
            "Ignoring a GitLab merge_request webhook: only issue events count",
        ),
        (
            lambda hook: hook["object_attributes"].pop("action"),
            "Ignoring a GitLab issue webhook without an issue id or action",
        ),
        (
            lambda hook: hook["object_attributes"].pop("id"),
            "Ignoring a GitLab issue webhook without an issue id or action",
        ),
        (
            lambda hook: (
                hook["project"].update(id=6120, path_with_namespace="platform/api-docs"),
                hook["object_attributes"].update(project_id=6120),
            ),
            "Ignoring a webhook from GitLab project platform/api-docs: "
            "this integration sends to finance/invoicing",
        ),
    ],
)
def test_other_webhooks_are_ignored_without_any_call(user_data, mocked_http, change, message):
    hook = body("close")
    change(hook)
    service = receive(user_data, hook, status_mapping=MAPPING)
    assert len(mocked_http.calls) == 0
    assert {"severity": Severity.INFO, "message": message} in service.logger.messages


def test_a_missing_project_is_a_configuration_error(user_data, mocked_http):
    with pytest.raises(ConfigurationError, match=r"No GitLab project \(project\)"):
        receive(user_data, body("close"), project=None)
    assert len(mocked_http.calls) == 0


def test_a_failing_label_fix_is_a_remote_error_without_the_token(user_data, mocked_http):
    mocked_http.get(SEARCH, json=search_answer())
    mocked_http.put(FEATURE, json=updated_feature("Ready to ship"))
    mocked_http.put(f"{PROJECT}/issues/52", status=403, json={"message": f"403 {TOKEN}"})
    service = gitlab_issues(user_data, body("update"), add_status_labels="1")
    with pytest.raises(
        RemoteError,
        match=r"GitLab refused PUT /projects/5501/issues/52 \(403\): the account needs the edit",
    ) as raised:
        service.receive("webhook")
    assert TOKEN not in str(raised.value)


def test_a_title_gitlab_holds_cut_to_its_limit_is_not_a_rename(user_data, mocked_http):
    long_name = "Invoices " * 40
    hook = body("close")
    hook["object_attributes"]["title"] = long_name[:254] + "…"
    mocked_http.get(SEARCH, json=search_answer(name=long_name))
    service = receive(user_data, hook)
    assert sent(mocked_http) == [("GET", SEARCH)]
    assert service.logger.messages[-1]["message"] == "No change for feature ACME-12"
