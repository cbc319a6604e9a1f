import copy
import json

import pytest

from services.core.logger import Severity
from services.trello import Trello
from spec.conftest import json_fixture, request_json
from spec.services.test_trello import AHA, CARD, DOING, DONE, STATUS_DOING, TOKEN, settings

SEARCH = f"{AHA}/integrations/4242/fields/id/value/{CARD}"
READY = "7000000000000000202"


def moved_card():
    return copy.deepcopy(json_fixture("trello/card_moved_webhook.json"))


def record(kind="feature", status=READY, host="acme.aha.io"):
    reference = "ACME-12" if kind == "feature" else "ACME-12-1"
    return {
        kind: {
            "id": "7104455667788990011",
            "reference_num": reference,
            "resource": f"https://{host}/api/v1/{kind}s/{reference}",
            "workflow_status": {"id": status, "name": "Ready to develop"},
        }
    }


def receive(user_data, payload, **changes):
    return Trello(settings(user_data, **changes), payload).receive("webhook")


def calls_of(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


def test_a_card_moved_to_a_mapped_list_sets_the_features_status(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record()]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    receive(user_data, moved_card())
    assert calls_of(mocked_http) == [("GET", SEARCH), ("PUT", f"{AHA}/features/ACME-12")]
    assert request_json(mocked_http.calls[1]) == {"feature": {"workflow_status": STATUS_DOING}}
    for call in mocked_http.calls:
        assert call.request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"


def test_the_card_and_list_may_come_from_the_model_alone(mocked_http, user_data):
    payload = moved_card()
    del payload["action"]
    payload["model"]["idList"] = DONE
    mocked_http.get(SEARCH, json={"records": [record()]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    receive(user_data, payload)
    assert request_json(mocked_http.calls[1]) == {
        "feature": {"workflow_status": "7000000000000000204"}
    }


def test_the_list_after_a_move_wins_over_the_models_list(mocked_http, user_data):
    payload = moved_card()
    payload["model"]["idList"] = DONE
    mocked_http.get(SEARCH, json={"records": [record()]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    receive(user_data, payload)
    assert request_json(mocked_http.calls[1]) == {"feature": {"workflow_status": STATUS_DOING}}


def test_a_linked_requirement_is_updated_as_a_requirement(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record("requirement")]})
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    receive(user_data, moved_card())
    assert request_json(mocked_http.calls[1]) == {"requirement": {"workflow_status": STATUS_DOING}}


def test_the_status_goes_to_the_configured_aha_base_only(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record(host="evil.example.com")]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    receive(user_data, moved_card())
    assert calls_of(mocked_http)[1] == ("PUT", f"{AHA}/features/ACME-12")


def test_a_mapping_kept_as_json_text_is_read(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record()]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    receive(user_data, moved_card(), feature_status_mapping=json.dumps({DOING: "77"}))
    assert request_json(mocked_http.calls[1]) == {"feature": {"workflow_status": "77"}}


@pytest.mark.parametrize("mapping", [{DONE: "7000000000000000204"}, None, "not json"])
def test_an_unmapped_list_changes_nothing_and_asks_aha_nothing(mocked_http, user_data, mapping):
    service = receive(user_data, moved_card(), feature_status_mapping=mapping)
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1] == {
        "severity": Severity.INFO,
        "message": f"Trello list {DOING} is not mapped to an Aha! status",
    }


def test_an_unchanged_status_is_not_sent_again(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record(status=STATUS_DOING)]})
    receive(user_data, moved_card())
    assert calls_of(mocked_http) == [("GET", SEARCH)]


@pytest.mark.parametrize(
    ("records", "warning"),
    [
        ([], f"id {CARD} is not linked to a record in Aha!; nothing changed"),
        (
            [record(), record("requirement")],
            f"2 Aha! records are linked to id {CARD}; none was changed",
        ),
    ],
)
def test_an_unlinked_or_ambiguous_card_changes_nothing(mocked_http, user_data, records, warning):
    mocked_http.get(SEARCH, json={"records": records})
    service = receive(user_data, moved_card())
    assert calls_of(mocked_http) == [("GET", SEARCH)]
    assert service.logger.messages[-1] == {"severity": Severity.WARN, "message": warning}


@pytest.mark.parametrize("payload", [{}, {"action": {"type": "updateBoard", "data": {}}}])
def test_a_webhook_without_a_card_is_ignored(mocked_http, user_data, payload):
    service = receive(user_data, payload)
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1]["message"] == (
        "The Trello webhook names no card in a list; nothing to do"
    )


def test_webhooks_need_no_trello_credentials_and_show_none(mocked_http, user_data):
    mocked_http.get(SEARCH, json={"records": [record()]})
    mocked_http.put(f"{AHA}/features/ACME-12", json={})
    service = receive(user_data, moved_card())
    assert TOKEN not in str(service.logger.messages)
    assert all("trello.com" not in url for _, url in calls_of(mocked_http))
