import copy
import json

import pytest

from services.core import ConfigurationError, MissingSetting, RemoteError
from services.core.events import run_event
from services.core.logger import Severity
from services.core.mash import frozen_mash, mash
from services.trello import Trello, board_lists, boards
from spec.conftest import json_fixture, request_json

API = "https://api.trello.com/1"
AHA = "https://acme.aha.io/api/v1"
KEY = "trello-app-key-0c4f2a"
TOKEN = "trello-user-token-8d2b71e9f3"
AUTH = f'OAuth oauth_consumer_key="{KEY}", oauth_token="{TOKEN}"'
BOARD = "64b0a1c2d3e4f50011aa0001"
BACKLOG = "64b0a1c2d3e4f50011bb0001"
DOING = "64b0a1c2d3e4f50011bb0002"
DONE = "64b0a1c2d3e4f50011bb0003"
CARD = "64b0a1c2d3e4f50011dd0042"
CARD_URL = "https://trello.com/c/Kx8pLm3d/42-bulk-export-of-invoices"
CHECKLIST = "64b0a1c2d3e4f50011ee0002"
NEW_CHECKLIST = "64b0a1c2d3e4f50011ee0009"
ITEM_1 = "64b0a1c2d3e4f50011ff0101"
ITEM_2 = "64b0a1c2d3e4f50011ff0102"
CALLBACK = "https://acme.aha.io/api/v1/webhooks/trello/4242-hook"
DUE = "2026-12-18T17:00:00.000Z"
DESC = (
    "Finance teams need to export **all invoices** of a quarter at once. "
    "See [the spec](https://wiki.example.com/export).\n\n* CSV\n* PDF bundle"
)
ITEM_1_NAME = "Export as CSV. One row per invoice line. Columns as in the attachment."
ITEM_2_NAME = "Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB."
DOWNLOADS = {
    "mockup.png": ("https://cdn.aha.io/attachments/0001/mockup.png?1699999001", "image/png"),
    "columns.csv": ("https://cdn.aha.io/attachments/0002/columns.csv?1699999002", "text/csv"),
    "csv-sample.csv": (
        "https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003",
        "text/csv",
    ),
}
STATUS_DOING = "7000000000000000203"


def settings(user_data, **changes):
    values = {
        **user_data,
        "oauth_key": KEY,
        "oauth_token": TOKEN,
        "oauth_secret": "trello-oauth-secret-77ab",
        "board": BOARD,
        "list_for_new_features": BACKLOG,
        "callback_url": CALLBACK,
        "feature_status_mapping": {DOING: STATUS_DOING, DONE: "7000000000000000204"},
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def link(name, value, integration_id=4242):
    return {"name": name, "value": value, "integration_id": integration_id, "service_name": "x"}


def feature_payload(card_id=None, item_id=None):
    """The shared feature event; optionally linked to a card and its first requirement's item."""
    payload = copy.deepcopy(json_fixture("create_feature_event.json"))
    feature = payload["feature"]
    feature["integration_fields"] = [link("id", "someone-elses-card", 5151)]
    if card_id:
        feature["integration_fields"] += [link("id", card_id), link("url", CARD_URL)]
    if item_id:
        feature["requirements"][0]["integration_fields"] = [
            link("id", item_id),
            link("checklist_id", CHECKLIST),
        ]
    return payload


def mock_downloads(mocked_http):
    for name, (url, content_type) in DOWNLOADS.items():
        mocked_http.get(url, body=f"<{name}>".encode(), content_type=content_type)


def mock_aha_fields(mocked_http):
    for reference in ("features/ACME-12", "requirements/ACME-12-1", "requirements/ACME-12-2"):
        mocked_http.post(f"{AHA}/{reference}/integrations/4242/fields", json={})


def calls_of(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


def trello_calls(mocked_http):
    return [c for c in mocked_http.calls if c.request.url.startswith(API)]


def assert_trello_auth(mocked_http):
    calls = trello_calls(mocked_http)
    assert calls
    for call in calls:
        assert call.request.headers["Authorization"] == AUTH
        assert TOKEN not in call.request.url and KEY not in call.request.url


def body_of(mocked_http, method, url):
    return [
        request_json(c)
        for c in mocked_http.calls
        if (c.request.method, c.request.url)
        == (
            method,
            url,
        )
    ]


def uploads(mocked_http):
    """The file names uploaded to the card, in order."""
    names = []
    for call in mocked_http.calls:
        if (call.request.method, call.request.url) == ("POST", f"{API}/cards/{CARD}/attachments"):
            assert call.request.headers["Content-Type"].startswith("multipart/form-data")
            body = call.request.body
            name = body.split(b'filename="')[1].split(b'"')[0].decode()
            assert f"<{name}>".encode() in body
            assert b'name="name"\r\n\r\n' + name.encode() in body
            names.append(name)
    return names


def receive(user_data, event, payload, **changes):
    return Trello(settings(user_data, **changes), payload).receive(event)


# --- schema ---------------------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in Trello.schema] == [
        ("oauth_button", "oauth_button"),
        ("string", "api_url"),
        ("install_button", "install_button"),
        ("select", "board"),
        ("select", "list_for_new_features"),
        ("select", "create_features_at"),
        ("internal", "feature_status_mapping"),
        ("callback_url", "callback_url"),
    ]
    assert (Trello.service_name, Trello.title, Trello.category) == (
        "trello",
        "Trello",
        "Development",
    )
    assert Trello.field_by_name("oauth_button").options == {
        "request_token_url": "https://trello.com/1/OAuthGetRequestToken",
        "access_token_url": "https://trello.com/1/OAuthGetAccessToken",
        "authorize_url": "https://trello.com/1/OAuthAuthorizeToken",
        "parameters": {"name": "Aha! Integration", "scope": "read,write", "expiration": "never"},
    }
    assert "https://api.trello.com/1" in Trello.field_by_name("api_url").options["description"]
    assert Trello.field_by_name("create_features_at").options["collection"] == [
        ["Top", "top"],
        ["Bottom", "bottom"],
    ]
    wire = {f["name"]: f for f in (field.to_wire() for field in Trello.schema)}
    assert wire["board"]["options"]["collection"] == "remote_collection"
    assert wire["list_for_new_features"]["options"]["collection"] == "remote_collection"


def test_the_oauth_token_and_secret_are_secret():
    secrets = Trello.secret_values(settings({}))
    assert TOKEN in secrets and "trello-oauth-secret-77ab" in secrets


def installed_boards():
    return {
        "boards": [
            {"id": BOARD, "name": "winter launch", "lists": [{"id": BACKLOG, "name": "Backlog"}]},
            {"id": "b2", "name": "Billing", "lists": [{"id": "l9", "name": "Inbox"}]},
        ]
    }


def test_the_board_select_lists_boards_by_name():
    meta_data = mash(installed_boards())
    assert boards(meta_data, frozen_mash({})) == [["Billing", "b2"], ["winter launch", BOARD]]
    assert boards(mash(), frozen_mash({})) == []


def test_the_list_select_holds_the_chosen_boards_lists():
    meta_data = mash(installed_boards())
    assert board_lists(meta_data, frozen_mash({"board": "b2"})) == [["Inbox", "l9"]]
    assert board_lists(meta_data, frozen_mash({"board": "unknown"})) == []
    assert board_lists(meta_data, frozen_mash({})) == []
    assert board_lists(mash(), frozen_mash({"board": BOARD})) == []


def test_the_proxy_answers_the_list_select_for_the_chosen_board():
    from proxy.app import create_app

    body = {
        "service_name": "trello",
        "field_name": "list_for_new_features",
        "meta_data": installed_boards(),
        "user_data": {"board": BOARD, "oauth_token": TOKEN},
    }
    answer = create_app().test_client().post("/remote_collection", json=body)
    assert (answer.status_code, answer.get_json()) == (200, [["Backlog", BACKLOG]])


# --- installed ------------------------------------------------------------------------------


def test_installed_keeps_the_boards_and_their_open_lists_in_board_order(mocked_http, user_data):
    mocked_http.get(f"{API}/members/me/boards?lists=open", json=json_fixture("trello/boards.json"))
    service = receive(user_data, "installed", {})
    assert calls_of(mocked_http) == [("GET", f"{API}/members/me/boards?lists=open")]
    assert_trello_auth(mocked_http)
    assert service.meta_data_to_return()["boards"] == [
        {
            "id": BOARD,
            "name": "winter launch",
            "lists": [
                {"id": BACKLOG, "name": "Backlog"},
                {"id": DOING, "name": "Doing"},
                {"id": DONE, "name": "Done"},
            ],
        },
        {
            "id": "64b0a1c2d3e4f50011aa0002",
            "name": "Billing",
            "lists": [{"id": "64b0a1c2d3e4f50011cc0001", "name": "Inbox"}],
        },
    ]
    assert board_lists(service.meta_data, service.data) == [
        ["Backlog", BACKLOG],
        ["Doing", DOING],
        ["Done", DONE],
    ]


def test_the_api_url_setting_replaces_the_default_base(mocked_http, user_data, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.get("http://127.0.0.1:9400/1/members/me/boards?lists=open", json=[])
    receive(user_data, "installed", {}, api_url="http://127.0.0.1:9400/1/")
    assert calls_of(mocked_http) == [
        ("GET", "http://127.0.0.1:9400/1/members/me/boards?lists=open")
    ]
    assert mocked_http.calls[0].request.headers["Authorization"] == AUTH


def test_a_refused_token_is_a_configuration_error_without_the_token(mocked_http, user_data):
    mocked_http.get(f"{API}/members/me/boards?lists=open", status=401, body=f"bad token {TOKEN}")
    with pytest.raises(ConfigurationError) as raised:
        receive(user_data, "installed", {})
    assert str(raised.value) == ("Trello rejected the credentials (401) for GET /members/me/boards")


@pytest.mark.parametrize("missing", ["oauth_key", "oauth_token"])
def test_without_credentials_nothing_is_sent(mocked_http, user_data, missing):
    with pytest.raises(MissingSetting, match="oauth_key or oauth_token is missing"):
        receive(user_data, "installed", {}, **{missing: ""})
    with pytest.raises(MissingSetting, match="Authenticate"):
        receive(user_data, "create_feature", feature_payload(), **{missing: ""})
    assert len(mocked_http.calls) == 0


# --- a new feature --------------------------------------------------------------------------


def mock_new_card(mocked_http, checklists=()):
    mocked_http.post(f"{API}/cards", json=json_fixture("trello/card.json"))
    mocked_http.post(f"{API}/cards/{CARD}/actions/comments", json={"id": "c1"})
    mocked_http.post(f"{API}/webhooks", json={"id": "w1"})
    mocked_http.get(f"{API}/cards/{CARD}/attachments", json=[])
    mocked_http.post(f"{API}/cards/{CARD}/attachments", json={"id": "a1"})
    mocked_http.get(f"{API}/cards/{CARD}/checklists", json=list(checklists))
    mocked_http.post(f"{API}/checklists", json={"id": NEW_CHECKLIST, "name": "Requirements"})
    mocked_http.post(f"{API}/checklists/{NEW_CHECKLIST}/checkItems", json={"id": ITEM_1})
    mocked_http.post(f"{API}/checklists/{NEW_CHECKLIST}/checkItems", json={"id": ITEM_2})
    mock_downloads(mocked_http)
    mock_aha_fields(mocked_http)


def test_a_new_feature_becomes_a_card_with_a_requirements_checklist(mocked_http, user_data):
    mock_new_card(mocked_http)
    receive(user_data, "create_feature", feature_payload())
    assert calls_of(mocked_http) == [
        ("POST", f"{API}/cards"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
        ("POST", f"{API}/cards/{CARD}/actions/comments"),
        ("POST", f"{API}/webhooks"),
        ("GET", f"{API}/cards/{CARD}/attachments"),
        ("GET", DOWNLOADS["mockup.png"][0]),
        ("POST", f"{API}/cards/{CARD}/attachments"),
        ("GET", DOWNLOADS["columns.csv"][0]),
        ("POST", f"{API}/cards/{CARD}/attachments"),
        ("GET", f"{API}/cards/{CARD}/checklists"),
        ("POST", f"{API}/checklists"),
        ("POST", f"{API}/checklists/{NEW_CHECKLIST}/checkItems"),
        ("POST", f"{AHA}/requirements/ACME-12-1/integrations/4242/fields"),
        ("GET", DOWNLOADS["csv-sample.csv"][0]),
        ("POST", f"{API}/cards/{CARD}/attachments"),
        ("POST", f"{API}/checklists/{NEW_CHECKLIST}/checkItems"),
        ("POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"),
    ]
    assert_trello_auth(mocked_http)
    calls = mocked_http.calls
    assert request_json(calls[0]) == {
        "name": "Bulk export of invoices",
        "desc": DESC,
        "idList": BACKLOG,
        "pos": "bottom",
        "due": DUE,
    }
    assert request_json(calls[1]) == {
        "integration_fields": [
            {"name": "id", "value": CARD},
            {"name": "url", "value": CARD_URL},
        ]
    }
    assert request_json(calls[2]) == {
        "text": "Created from Aha! https://acme.aha.io/features/ACME-12"
    }
    assert request_json(calls[3]) == {"callbackURL": CALLBACK, "idModel": CARD}
    assert request_json(calls[10]) == {"idCard": CARD, "name": "Requirements"}
    assert request_json(calls[11]) == {"name": ITEM_1_NAME}
    assert request_json(calls[12]) == {
        "integration_fields": [
            {"name": "id", "value": ITEM_1},
            {"name": "checklist_id", "value": NEW_CHECKLIST},
        ]
    }
    assert request_json(calls[15]) == {"name": ITEM_2_NAME}
    assert request_json(calls[16]) == {
        "integration_fields": [
            {"name": "id", "value": ITEM_2},
            {"name": "checklist_id", "value": NEW_CHECKLIST},
        ]
    }
    assert uploads(mocked_http) == ["mockup.png", "columns.csv", "csv-sample.csv"]
    for call in calls:
        if call.request.url.startswith("https://cdn.aha.io/"):
            assert "Authorization" not in call.request.headers


def test_new_cards_go_where_chosen_and_parking_lots_give_no_due_date(mocked_http, user_data):
    mock_new_card(mocked_http, checklists=json_fixture("trello/checklists.json"))
    mocked_http.post(f"{API}/checklists/{CHECKLIST}/checkItems", json={"id": ITEM_1})
    payload = feature_payload()
    payload["feature"]["release"]["parking_lot"] = True
    receive(user_data, "create_feature", payload, create_features_at="top", callback_url="")
    card = body_of(mocked_http, "POST", f"{API}/cards")[0]
    assert (card["pos"], card["due"]) == ("top", None)
    assert body_of(mocked_http, "POST", f"{API}/webhooks") == []
    # The card's own "Requirements" checklist is used; none is created.
    assert body_of(mocked_http, "POST", f"{API}/checklists") == []
    assert len(body_of(mocked_http, "POST", f"{API}/checklists/{CHECKLIST}/checkItems")) == 2


def test_an_unknown_position_falls_back_to_the_bottom(mocked_http, user_data):
    mock_new_card(mocked_http)
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    receive(user_data, "create_feature", payload, create_features_at="middle")
    assert body_of(mocked_http, "POST", f"{API}/cards")[0]["pos"] == "bottom"


def test_a_failed_trello_webhook_is_only_a_warning(mocked_http, user_data):
    mock_new_card(mocked_http)
    mocked_http.replace("POST", f"{API}/webhooks", status=400, body="invalid callbackURL")
    service = receive(user_data, "create_feature", feature_payload())
    assert {
        "severity": Severity.WARN,
        "message": f"Could not create the Trello webhook for card {CARD}: "
        "Trello: POST /webhooks answered HTTP 400: invalid callbackURL",
    } in service.logger.messages
    assert (
        len(body_of(mocked_http, "POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"))
        == 1
    )


# --- a linked feature -----------------------------------------------------------------------


def mock_linked_card(mocked_http):
    mocked_http.get(f"{API}/cards/{CARD}", json=json_fixture("trello/card.json"))
    mocked_http.put(f"{API}/cards/{CARD}", json=json_fixture("trello/card.json"))
    mocked_http.get(f"{API}/cards/{CARD}/attachments", json=json_fixture("trello/attachments.json"))
    mocked_http.post(f"{API}/cards/{CARD}/attachments", json={"id": "a1"})
    mocked_http.put(f"{API}/cards/{CARD}/checkItem/{ITEM_1}", json={"id": ITEM_1})
    mocked_http.get(f"{API}/cards/{CARD}/checklists", json=json_fixture("trello/checklists.json"))
    mocked_http.post(f"{API}/checklists/{CHECKLIST}/checkItems", json={"id": ITEM_2})
    mock_downloads(mocked_http)
    mock_aha_fields(mocked_http)


@pytest.mark.parametrize("event", ["update_feature", "create_feature"])
def test_a_linked_card_is_updated_never_duplicated(mocked_http, user_data, event):
    mock_linked_card(mocked_http)
    receive(user_data, event, feature_payload(card_id=CARD, item_id=ITEM_1))
    assert calls_of(mocked_http) == [
        ("GET", f"{API}/cards/{CARD}"),
        ("PUT", f"{API}/cards/{CARD}"),
        ("GET", f"{API}/cards/{CARD}/attachments"),
        ("GET", DOWNLOADS["columns.csv"][0]),
        ("POST", f"{API}/cards/{CARD}/attachments"),
        ("PUT", f"{API}/cards/{CARD}/checkItem/{ITEM_1}"),
        ("GET", DOWNLOADS["csv-sample.csv"][0]),
        ("POST", f"{API}/cards/{CARD}/attachments"),
        ("GET", f"{API}/cards/{CARD}/checklists"),
        ("POST", f"{API}/checklists/{CHECKLIST}/checkItems"),
        ("POST", f"{AHA}/requirements/ACME-12-2/integrations/4242/fields"),
    ]
    assert_trello_auth(mocked_http)
    calls = mocked_http.calls
    assert request_json(calls[1]) == {"name": "Bulk export of invoices", "desc": DESC, "due": DUE}
    assert request_json(calls[5]) == {"name": ITEM_1_NAME}
    assert request_json(calls[9]) == {"name": ITEM_2_NAME}
    assert request_json(calls[10]) == {
        "integration_fields": [
            {"name": "id", "value": ITEM_2},
            {"name": "checklist_id", "value": CHECKLIST},
        ]
    }
    # mockup.png is on the card already (attachments.json).
    assert uploads(mocked_http) == ["columns.csv", "csv-sample.csv"]


def test_moving_to_a_parking_lot_clears_the_due_date(mocked_http, user_data):
    mock_linked_card(mocked_http)
    payload = feature_payload(card_id=CARD, item_id=ITEM_1)
    payload["feature"]["release"]["parking_lot"] = True
    receive(user_data, "update_feature", payload)
    assert body_of(mocked_http, "PUT", f"{API}/cards/{CARD}")[0]["due"] is None


def test_a_vanished_card_is_created_again_with_new_checklist_items(mocked_http, user_data):
    mock_new_card(mocked_http)
    mocked_http.get(f"{API}/cards/{CARD}", status=404, body="The requested resource was not found.")
    service = receive(user_data, "update_feature", feature_payload(card_id=CARD, item_id=ITEM_1))
    assert calls_of(mocked_http)[:3] == [
        ("GET", f"{API}/cards/{CARD}"),
        ("POST", f"{API}/cards"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
    ]
    assert not [c for c in mocked_http.calls if c.request.method == "PUT"]
    assert len(body_of(mocked_http, "POST", f"{API}/checklists/{NEW_CHECKLIST}/checkItems")) == 2
    assert f"The linked card {CARD} is gone from Trello; creating it again" in [
        m["message"] for m in service.logger.messages
    ]


def test_a_vanished_checklist_item_is_created_again(mocked_http, user_data):
    mock_linked_card(mocked_http)
    mocked_http.replace("PUT", f"{API}/cards/{CARD}/checkItem/{ITEM_1}", status=404, body="gone")
    mocked_http.replace("POST", f"{API}/checklists/{CHECKLIST}/checkItems", json={"id": ITEM_2})
    receive(user_data, "update_feature", feature_payload(card_id=CARD, item_id=ITEM_1))
    items = body_of(mocked_http, "POST", f"{API}/checklists/{CHECKLIST}/checkItems")
    assert items == [{"name": ITEM_1_NAME}, {"name": ITEM_2_NAME}]
    assert body_of(mocked_http, "POST", f"{AHA}/requirements/ACME-12-1/integrations/4242/fields")
    # One look at the card's checklists serves both requirements.
    assert len([c for c in calls_of(mocked_http) if c[1].endswith("/checklists")]) == 1


def test_a_file_already_uploaded_in_this_event_is_not_uploaded_twice(mocked_http, user_data):
    mock_linked_card(mocked_http)
    payload = feature_payload(card_id=CARD, item_id=ITEM_1)
    requirement = payload["feature"]["requirements"][0]
    requirement["description"]["attachments"][0]["file_name"] = "columns.csv"
    receive(user_data, "update_feature", payload)
    assert uploads(mocked_http) == ["columns.csv"]
    assert len([c for c in calls_of(mocked_http) if c[1].endswith("/attachments")]) == 2


def test_files_that_cannot_be_fetched_or_uploaded_are_skipped_with_warnings(mocked_http, user_data):
    mock_linked_card(mocked_http)
    mocked_http.replace("GET", DOWNLOADS["columns.csv"][0], status=404)
    mocked_http.replace("POST", f"{API}/cards/{CARD}/attachments", status=500, body="busy")
    payload = feature_payload(card_id=CARD, item_id=ITEM_1)
    payload["feature"]["attachments"] = [
        {"file_name": "inside.pdf", "download_url": "http://10.0.0.7/inside.pdf"}
    ]
    service = receive(user_data, "update_feature", payload)
    warnings = [m["message"] for m in service.logger.messages if m["severity"] == Severity.WARN]
    assert warnings[0].startswith("The file columns.csv was not sent to Trello: ")
    assert "HTTP 404" in warnings[0]
    assert warnings[1].startswith("The file inside.pdf was not sent to Trello: ")
    assert warnings[2] == (
        f"Could not attach csv-sample.csv to Trello card {CARD}: "
        f"Trello: POST /cards/{CARD}/attachments answered HTTP 500: busy"
    )
    assert "http://10.0.0.7/inside.pdf" not in [c.request.url for c in mocked_http.calls]
    # The requirement after the failed files was still sent.
    assert body_of(mocked_http, "POST", f"{API}/checklists/{CHECKLIST}/checkItems")


# --- errors ---------------------------------------------------------------------------------


def test_a_failing_trello_is_a_remote_error_and_nothing_is_linked(mocked_http, user_data):
    mocked_http.post(f"{API}/cards", status=500, body="x" * 700)
    with pytest.raises(RemoteError) as raised:
        receive(user_data, "create_feature", feature_payload())
    assert str(raised.value) == f"Trello: POST /cards answered HTTP 500: {'x' * 500}..."
    assert calls_of(mocked_http) == [("POST", f"{API}/cards")]


def test_a_refused_token_during_a_feature_event_is_a_configuration_error(mocked_http, user_data):
    mocked_http.get(f"{API}/cards/{CARD}", status=401, body="invalid token")
    with pytest.raises(ConfigurationError, match=r"Trello rejected the credentials \(401\)"):
        receive(user_data, "update_feature", feature_payload(card_id=CARD))
    assert len(mocked_http.calls) == 1


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("board", r"The Trello board \(board\) is not set"),
        ("list_for_new_features", r"list for new features \(list_for_new_features\) is not set"),
    ],
)
def test_a_missing_board_or_list_is_reported_before_any_write(
    mocked_http, user_data, missing, message
):
    with pytest.raises(MissingSetting, match=message):
        receive(user_data, "create_feature", feature_payload(card_id=CARD), **{missing: None})
    assert len(mocked_http.calls) == 0


def test_an_event_without_a_feature_sends_nothing(mocked_http, user_data):
    service = receive(user_data, "update_feature", {"event": "update_feature"})
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1] == {
        "severity": Severity.WARN,
        "message": "The event carries no feature; nothing was sent to Trello",
    }


@pytest.mark.parametrize("event", ["create_release", "update_release"])
def test_release_events_are_ignored(mocked_http, user_data, event):
    service = receive(user_data, event, json_fixture(f"{event}_event.json"))
    assert len(mocked_http.calls) == 0
    assert service.logger.messages[-1]["message"] == f"Trello ignoring event :{event}"


def test_secrets_never_reach_the_answer_or_the_logs(mocked_http, user_data):
    mocked_http.post(f"{API}/cards", status=500, body=f"echo {TOKEN} trello-oauth-secret-77ab")
    answer = run_event(
        Trello, "create_feature", user_data=settings(user_data), payload=feature_payload()
    )
    text = json.dumps(answer)
    assert answer["exception"]["exception_class"] == "RemoteError"
    assert "answered HTTP 500" in answer["exception"]["message"]
    assert TOKEN not in text and "trello-oauth-secret-77ab" not in text
    assert "[FILTERED]" in answer["exception"]["message"]


# --- gone records, field limits, records without a URL --------------------------------------


@pytest.mark.parametrize(
    ("status", "answer"),
    [(400, "invalid id"), (410, "gone"), (404, "The requested resource was not found.")],
)
def test_a_card_trello_no_longer_knows_is_created_again(mocked_http, user_data, status, answer):
    mock_new_card(mocked_http)
    mocked_http.get(f"{API}/cards/{CARD}", status=status, body=answer)
    service = receive(user_data, "update_feature", feature_payload(card_id=CARD, item_id=ITEM_1))
    assert calls_of(mocked_http)[:3] == [
        ("GET", f"{API}/cards/{CARD}"),
        ("POST", f"{API}/cards"),
        ("POST", f"{AHA}/features/ACME-12/integrations/4242/fields"),
    ]
    assert_trello_auth(mocked_http)
    assert body_of(mocked_http, "POST", f"{AHA}/features/ACME-12/integrations/4242/fields") == [
        {
            "integration_fields": [
                {"name": "id", "value": CARD},
                {"name": "url", "value": CARD_URL},
            ]
        }
    ]
    assert f"The linked card {CARD} is gone from Trello; creating it again" in [
        m["message"] for m in service.logger.messages
    ]


def test_a_checklist_item_answered_with_invalid_id_is_created_again(mocked_http, user_data):
    mock_linked_card(mocked_http)
    mocked_http.replace(
        "PUT", f"{API}/cards/{CARD}/checkItem/{ITEM_1}", status=400, body="invalid id"
    )
    mocked_http.replace("POST", f"{API}/checklists/{CHECKLIST}/checkItems", json={"id": ITEM_2})
    receive(user_data, "update_feature", feature_payload(card_id=CARD, item_id=ITEM_1))
    items = body_of(mocked_http, "POST", f"{API}/checklists/{CHECKLIST}/checkItems")
    assert items == [{"name": ITEM_1_NAME}, {"name": ITEM_2_NAME}]


def test_other_400_answers_are_errors_not_gone_cards(mocked_http, user_data):
    mock_linked_card(mocked_http)
    mocked_http.replace("PUT", f"{API}/cards/{CARD}", status=400, body="invalid value for due")
    with pytest.raises(RemoteError, match="answered HTTP 400: invalid value for due"):
        receive(user_data, "update_feature", feature_payload(card_id=CARD, item_id=ITEM_1))
    assert not body_of(mocked_http, "POST", f"{API}/cards")


def test_names_and_descriptions_longer_than_trello_takes_are_cut(mocked_http, user_data):
    mock_new_card(mocked_http)
    payload = feature_payload()
    payload["feature"]["name"] = "Invoices " * 2_000
    payload["feature"]["description"]["body"] = "<p>" + "invoice " * 3_000 + "</p>"
    payload["feature"]["requirements"][0]["name"] = "Row " * 5_000
    receive(user_data, "create_feature", payload)
    card = body_of(mocked_http, "POST", f"{API}/cards")[0]
    assert len(card["name"]) == 16_384 and card["name"].endswith("…")
    assert len(card["desc"]) <= 16_384
    assert card["desc"].endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)"
    )
    item = body_of(mocked_http, "POST", f"{API}/checklists/{NEW_CHECKLIST}/checkItems")[0]
    assert len(item["name"]) == 16_384 and item["name"].endswith("…")
    assert Trello.field_limits == {
        "name": 16_384,
        "desc": 16_384,
        "check_item_name": 16_384,
        "comment": 16_384,
    }


def test_a_feature_without_a_url_gets_no_created_from_comment(mocked_http, user_data):
    mock_new_card(mocked_http)
    payload = feature_payload()
    del payload["feature"]["url"]
    receive(user_data, "create_feature", payload)
    assert ("POST", f"{API}/cards/{CARD}/actions/comments") not in calls_of(mocked_http)
    assert body_of(mocked_http, "POST", f"{API}/cards")


@pytest.mark.parametrize(
    ("requirement", "name"),
    [
        (
            {"name": "Export as CSV", "description": {"body": "<p>One file.</p>"}},
            "Export as CSV. One file.",
        ),
        ({"reference_num": "ACME-12-3", "description": {"body": ""}}, "ACME-12-3"),
        ({"description": {}}, "Requirement"),
    ],
)
def test_a_checklist_item_is_named_by_what_the_requirement_has_never_none(
    user_data, requirement, name
):
    assert Trello(settings(user_data)).check_item_name(mash(requirement)) == name


def test_answers_of_another_shape_are_remote_errors_naming_them(mocked_http, user_data):
    mocked_http.get(f"{API}/members/me/boards?lists=open", json=["winter launch"])
    with pytest.raises(RemoteError, match="with an array holding a string where an array of"):
        receive(user_data, "installed", {})
    mock_new_card(mocked_http)
    mocked_http.replace("POST", f"{API}/cards", json=[])
    with pytest.raises(RemoteError, match="POST .*/cards.* with an array where an object"):
        receive(user_data, "create_feature", feature_payload())
