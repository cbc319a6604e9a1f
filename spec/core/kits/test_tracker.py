import pytest

from services.core import ConfigurationError, InvalidUrlError, RemoteError, password, string
from services.core.kits.tracker import (
    RemoteGone,
    TrackerService,
    files_missing,
    labelled,
    record_files,
    tracker_url,
)
from spec.conftest import json_fixture, request_json

BASE = "https://ghe.example.com/api/v3/"
AHA = "https://acme.aha.io/api/v1"


class Tracker(TrackerService):
    tracker_name = "Fake tracker"
    schema = (string("server_url"), password("api_token"))

    def base_url(self):
        return self.data.server_url or "https://tracker.example.com/api"

    def tracker_request_options(self):
        return {"headers": {"Authorization": f"token {self.data.api_token}", "X-Base": "1"}}


@pytest.fixture
def tracker(user_data):
    return Tracker({**user_data, "server_url": BASE, "api_token": "tracker-token-123"})


def test_tracker_url_joins_whatever_the_slashes():
    assert tracker_url("https://x.example.com/api/v3/", "/repos/a") == (
        "https://x.example.com/api/v3/repos/a"
    )
    assert tracker_url("https://x.example.com/api/v3", "repos/a") == (
        "https://x.example.com/api/v3/repos/a"
    )


def test_requests_go_under_the_base_with_the_tracker_headers(tracker, mocked_http):
    mocked_http.post("https://ghe.example.com/api/v3/repos/a/b/issues", json={"number": 7})
    answer = tracker.tracker_json(
        "POST", "/repos/a/b/issues", json={"title": "x"}, headers={"Accept": "json"}
    )
    assert answer == {"number": 7}
    request = mocked_http.calls[0].request
    assert request.headers["Authorization"] == "token tracker-token-123"
    assert (request.headers["X-Base"], request.headers["Accept"]) == ("1", "json")
    assert request_json(mocked_http.calls[0]) == {"title": "x"}


def test_an_answer_that_is_not_json_is_a_remote_error_naming_the_request(tracker, mocked_http):
    login = "<html><title>Sign in to the proxy</title></html>"
    mocked_http.post("https://ghe.example.com/api/v3/repos/a/b/issues", body=login)
    mocked_http.get("https://ghe.example.com/api/v3/user/repos", body=login)
    message = (
        "Fake tracker answered {} https://ghe.example.com/api/v3/{} (HTTP 200) with a body "
        "that is not JSON: '<html><title>Sign in to the proxy</title></html>'"
    )
    with pytest.raises(RemoteError) as raised:
        tracker.tracker_json("POST", "/repos/a/b/issues", json={"title": "x"})
    assert str(raised.value) == message.format("POST", "repos/a/b/issues")
    with pytest.raises(RemoteError) as raised:
        tracker.tracker_pages("/user/repos")
    assert str(raised.value) == message.format("GET", "user/repos")


def test_a_401_is_a_configuration_error_naming_the_tracker(tracker, mocked_http):
    mocked_http.get("https://ghe.example.com/api/v3/user", status=401, body="tracker-token-123")
    with pytest.raises(ConfigurationError) as raised:
        tracker.tracker_request("get", "/user")
    assert str(raised.value) == "Fake tracker rejected the credentials (401) for GET /user"


@pytest.mark.parametrize(
    ("method", "permission"),
    [("GET", "read"), ("POST", "create"), ("PUT", "edit"), ("PATCH", "edit"), ("DELETE", "delete")],
)
def test_a_403_names_the_permission_the_call_needs(tracker, mocked_http, method, permission):
    mocked_http.add(method, "https://ghe.example.com/api/v3/repos/a/b", status=403, body="no")
    with pytest.raises(RemoteError) as raised:
        tracker.tracker_request(method, "/repos/a/b")
    assert str(raised.value) == (
        f"Fake tracker refused {method} /repos/a/b (403): "
        f"the account needs the {permission} permission. no"
    )


def test_a_403_with_a_lockout_header_is_a_configuration_error(tracker, mocked_http):
    mocked_http.get(
        "https://ghe.example.com/api/v3/user",
        status=403,
        headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE"},
    )
    with pytest.raises(ConfigurationError, match="CAPTCHA_CHALLENGE"):
        tracker.tracker_request("GET", "/user")
    assert len(mocked_http.calls) == 1


def test_a_404_is_remote_not_found_and_other_errors_are_remote_errors(tracker, mocked_http):
    mocked_http.get("https://ghe.example.com/api/v3/gone", status=404, json={"message": "Gone"})
    mocked_http.put("https://ghe.example.com/api/v3/busy", status=500, body="x" * 600)
    with pytest.raises(RemoteGone, match='GET /gone answered HTTP 404: {"message": "Gone"}'):
        tracker.tracker_request("GET", "/gone")
    with pytest.raises(RemoteError) as raised:
        tracker.tracker_request("PUT", "/busy")
    assert str(raised.value) == f"Fake tracker: PUT /busy answered HTTP 500: {'x' * 500}..."


def test_tracker_pages_follow_link_headers(tracker, mocked_http):
    second = "https://ghe.example.com/api/v3/user/repos?page=2"
    mocked_http.get(
        "https://ghe.example.com/api/v3/user/repos?per_page=100",
        json=[{"full_name": "a/b"}],
        headers={"Link": f'<{second}>; rel="next"'},
    )
    mocked_http.get(second, json=[{"full_name": "c/d"}])
    repos = tracker.tracker_pages("/user/repos", params={"per_page": 100})
    assert [r["full_name"] for r in repos] == ["a/b", "c/d"]
    assert all(
        c.request.headers["Authorization"] == "token tracker-token-123" for c in mocked_http.calls
    )


def test_the_token_never_reaches_a_log_line(tracker, mocked_http):
    mocked_http.get("https://ghe.example.com/api/v3/user", json={"echo": "tracker-token-123"})
    tracker.tracker_request("GET", "/user")
    assert "tracker-token-123" not in str(tracker.logger.messages)


def test_links_are_read_by_integration_id_and_written_in_one_call(tracker, mocked_http):
    feature = json_fixture("update_feature_event.json")["feature"]
    from services.core.mash import mash

    feature = mash(feature)
    assert tracker.link(feature, "number") == "318"
    mocked_http.post(f"{AHA}/requirements/ACME-12-1/integrations/4242/fields", json={})
    tracker.write_links(feature.requirements[0], {"number": 9, "url": "https://t/9"})
    assert request_json(mocked_http.calls[0]) == {
        "integration_fields": [
            {"name": "number", "value": 9},
            {"name": "url", "value": "https://t/9"},
        ]
    }


def test_create_or_update_updates_a_linked_object(tracker):
    calls = []
    result = tracker.create_or_update(
        "7", update=lambda n: calls.append(("update", n)) or "u", create=lambda: "c", what="issue"
    )
    assert (result, calls) == ("u", [("update", "7")])


def test_create_or_update_creates_without_a_link_or_when_the_object_vanished(tracker):
    assert tracker.create_or_update(None, update=lambda n: "u", create=lambda: "c", what="x") == "c"

    def vanished(number):
        raise RemoteGone("gone")

    assert tracker.create_or_update("7", update=vanished, create=lambda: "c", what="issue") == "c"
    assert "linked issue 7 is gone from Fake tracker" in tracker.logger.messages[-1]["message"]


def test_other_update_errors_are_not_swallowed(tracker):
    def broken(number):
        raise RemoteError("500")

    with pytest.raises(RemoteError):
        tracker.create_or_update("7", update=broken, create=lambda: "c", what="issue")


def test_record_text():
    from services.core.mash import mash

    feature = mash(json_fixture("create_feature_event.json")["feature"])
    text = Tracker().record_text(feature, field="body")
    assert text.startswith("Finance teams need to export **all invoices** of a quarter at once.")
    assert "mockup.png (https://cdn.aha.io/attachments/0001/mockup.png?1699999001)" in text
    assert text.endswith("Created from Aha! https://acme.aha.io/features/ACME-12")
    assert (
        TrackerService.record_title(feature.requirements[1])
        == "Bundle the PDFs in one zip & name it by quarter"
    )


def test_an_attachment_missing_its_name_or_address_never_reads_none():
    record = {
        "description": {"attachments": [{"file_name": "mockup.png"}, {"download_url": None}]},
        "attachments": [{"download_url": "https://cdn.aha.io/attachments/0003/plan.pdf"}],
    }
    assert TrackerService.attachment_lines(record) == [
        "mockup.png",
        "https://cdn.aha.io/attachments/0003/plan.pdf",
    ]
    text = Tracker().record_text(record, field="body")
    assert text == "mockup.png\nhttps://cdn.aha.io/attachments/0003/plan.pdf"
    assert "None" not in text


def test_labelled_sorts_case_insensitively():
    items = [{"n": "beta", "i": 2}, {"n": "Alpha", "i": 1}, {"n": "gamma", "i": 3}]
    assert labelled(items, "n", "i") == [["Alpha", 1], ["beta", 2], ["gamma", 3]]


def search_answer(*records):
    return {"records": list(records)}


def test_find_linked_record_takes_one_feature_or_requirement(tracker, mocked_http):
    url = f"{AHA}/integrations/4242/fields/number/value/318"
    feature = {
        "reference_num": "ACME-12",
        "resource": "https://acme.aha.io/api/v1/features/ACME-12",
    }
    mocked_http.get(
        url, json=search_answer({"release": {"reference_num": "ACME-R-3"}}, {"feature": feature})
    )
    kind, record = tracker.find_linked_record("number", 318)
    assert (kind, record.reference_num) == ("feature", "ACME-12")
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer aha-api-token-5e1f0c"


@pytest.mark.parametrize(
    ("records", "warning"),
    [
        ([], "number 5 is not linked to a record in Aha!; nothing changed"),
        ([{"release": {"id": "1"}}], "number 5 is not linked to a record in Aha!; nothing changed"),
        (
            [{"feature": {"id": "1"}}, {"requirement": {"id": "2"}}],
            "2 Aha! records are linked to number 5; none was changed",
        ),
    ],
)
def test_find_linked_record_warns_for_none_or_several(tracker, mocked_http, records, warning):
    mocked_http.get(f"{AHA}/integrations/4242/fields/number/value/5", json=search_answer(*records))
    assert tracker.find_linked_record("number", 5) is None
    assert tracker.logger.messages[-1] == {"severity": 2, "message": warning}


def test_update_linked_record_puts_to_the_configured_base_only(tracker, mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_API_URL", "https://aha.internal.example.com")
    mocked_http.put("https://aha.internal.example.com/api/v1/features/ACME-12", json={})
    record = {
        "reference_num": "ACME-12",
        "resource": "https://evil.example.com/api/v1/features/ACME-12",
    }
    tracker.update_linked_record("feature", record, {"name": "New name"})
    call = mocked_http.calls[0]
    assert call.request.url == "https://aha.internal.example.com/api/v1/features/ACME-12"
    assert request_json(call) == {"feature": {"name": "New name"}}


def test_update_linked_record_sends_nothing_without_changes(tracker, mocked_http):
    assert tracker.update_linked_record("feature", {"resource": "/api/v1/features/X-1"}, {}) is None
    assert len(mocked_http.calls) == 0


def test_update_linked_record_leaves_out_what_the_record_already_holds(tracker, mocked_http):
    mocked_http.put(f"{AHA}/features/X-1", json={})
    record = {
        "resource": "/api/v1/features/X-1",
        "name": "Same",
        "estimate": 5,
        "tags": [{"name": "b"}, {"name": "a"}],
        "workflow_status": {"id": "70", "name": "Done"},
    }
    unchanged = {"name": "Same", "estimate": "5", "tags": "a, b", "workflow_status": "Done"}
    assert tracker.update_linked_record("feature", record, unchanged) is None
    assert len(mocked_http.calls) == 0
    changes = {**unchanged, "workflow_status": "71", "tags": ["a"], "description": ""}
    tracker.update_linked_record("feature", record, changes)
    assert request_json(mocked_http.calls[0]) == {
        "feature": {"workflow_status": "71", "tags": ["a"], "description": ""}
    }


def test_credentials_never_go_to_a_plain_http_tracker(user_data, mocked_http):
    tracker = Tracker({**user_data, "server_url": "http://tracker.example.com/api"})
    with pytest.raises(InvalidUrlError, match="plain http"):
        tracker.tracker_request("GET", "/user")
    assert len(mocked_http.calls) == 0


def test_a_caller_can_accept_an_error_status_to_handle_it(tracker, mocked_http):
    mocked_http.post("https://ghe.example.com/api/v3/uploads", status=422, body="too large")
    response = tracker.tracker_request("POST", "/uploads", accept=(422,), data=b"x")
    assert response.status_code == 422


@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410_both_say_gone(tracker, mocked_http, status):
    mocked_http.patch(
        "https://ghe.example.com/api/v3/issues/7",
        status=status,
        json={"message": "This issue was deleted"},
    )
    with pytest.raises(RemoteGone, match=f"PATCH /issues/7 answered HTTP {status}"):
        tracker.tracker_request("PATCH", "/issues/7")


class BodyCodedTracker(Tracker):
    """A tracker that says "gone" with a 400 and a body of its own."""

    def is_gone(self, status, body):
        return super().is_gone(status, body) or (status == 400 and body == "no such record")


def test_a_tracker_extends_what_counts_as_gone_and_create_or_update_follows(user_data, mocked_http):
    tracker = BodyCodedTracker({**user_data, "server_url": BASE, "api_token": "tracker-token-456"})
    mocked_http.put("https://ghe.example.com/api/v3/cards/9", status=400, body="no such record")
    mocked_http.put("https://ghe.example.com/api/v3/cards/8", status=400, body="bad due date")
    created = tracker.create_or_update(
        "9",
        update=lambda n: tracker.tracker_request("PUT", f"/cards/{n}"),
        create=lambda: "new card",
        what="card",
    )
    assert created == "new card"
    assert "The linked card 9 is gone from Fake tracker" in tracker.logger.messages[-1]["message"]
    with pytest.raises(RemoteError) as raised:
        tracker.create_or_update(
            "8",
            update=lambda n: tracker.tracker_request("PUT", f"/cards/{n}"),
            create=lambda: "new card",
            what="card",
        )
    assert not isinstance(raised.value, RemoteGone)


def test_record_text_is_cut_to_the_fields_limit_before_its_origin_line():
    from services.core.mash import mash

    class Limited(Tracker):
        field_limits = {"body": 300}

    feature = mash(json_fixture("create_feature_event.json")["feature"])
    feature.description.body = "<p>" + "invoice " * 100 + "</p>"
    text = Limited().record_text(feature, field="body")
    assert len(text) <= 300
    assert text.endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)\n\n"
        "Created from Aha! https://acme.aha.io/features/ACME-12"
    )
    assert Tracker().record_text(feature, field="body").count("invoice") == 100


def test_a_record_without_a_url_has_no_created_from_line():
    from services.core.mash import mash

    feature = mash(json_fixture("create_feature_event.json")["feature"])
    feature.url = None
    assert TrackerService.created_from_aha(feature) == ""
    assert TrackerService.created_from_aha({"reference_num": "ACME-R-3"}) == ""
    text = Tracker().record_text(feature, field="body")
    assert "Created from" not in text and "None" not in text


def test_record_files_are_the_description_s_and_the_record_s_each_name_once():
    record = {
        "description": {
            "attachments": [
                {"file_name": "a.png", "download_url": "https://cdn.aha.io/a.png"},
                {"file_name": "", "download_url": "https://cdn.aha.io/nameless"},
            ]
        },
        "attachments": [
            {"file_name": "a.png", "download_url": "https://cdn.aha.io/other-a.png"},
            {"file_name": "b.pdf", "download_url": "https://cdn.aha.io/b.pdf"},
            {"file_name": "c.txt"},
        ],
    }
    assert [(f["file_name"], f["download_url"]) for f in record_files(record)] == [
        ("a.png", "https://cdn.aha.io/a.png"),
        ("b.pdf", "https://cdn.aha.io/b.pdf"),
    ]


def test_a_file_that_cannot_be_fetched_is_a_warning_naming_it(tracker, mocked_http):
    mocked_http.get("https://cdn.aha.io/a.png", body=b"PNG")
    mocked_http.get("https://cdn.aha.io/gone.png", status=404)
    assert tracker.fetch_file(
        {"file_name": "a.png", "download_url": "https://cdn.aha.io/a.png"}
    ) == (b"PNG")
    gone = {"file_name": "gone.png", "download_url": "https://cdn.aha.io/gone.png"}
    assert tracker.fetch_file(gone) is None
    refused = {"file_name": "inside.png", "download_url": "http://10.0.0.7/inside.png"}
    assert tracker.fetch_file(refused) is None
    warnings = [m["message"] for m in tracker.logger.messages if m["severity"] == 2]
    assert warnings[0].startswith("The file gone.png was not sent to Fake tracker: ")
    assert "HTTP 404" in warnings[0]
    assert warnings[1].startswith("The file inside.png was not sent to Fake tracker: Refused")
    assert len(mocked_http.calls) == 2


def test_files_missing_asks_for_the_present_names_only_when_there_are_files():
    asked = []

    def present():
        asked.append(True)
        return ["a.png"]

    record = {
        "attachments": [
            {"file_name": "a.png", "download_url": "https://cdn.aha.io/a.png"},
            {"file_name": "b.pdf", "download_url": "https://cdn.aha.io/b.pdf"},
        ]
    }
    assert [f["file_name"] for f in files_missing(record, present)] == ["b.pdf"]
    assert [f["file_name"] for f in files_missing(record, None)] == ["a.png", "b.pdf"]
    assert files_missing({"attachments": []}, present) == []
    assert asked == [True]
