import pytest
from responses import matchers

from services.core import rate_limits
from services.core.aha_api import (
    ERRORS_BY_STATUS,
    AhaApi,
    AhaApiError,
    BadGateway,
    BadRequest,
    Forbidden,
    InternalServerError,
    NotAcceptable,
    NotFound,
    NotImplemented,
    ServiceUnavailable,
    Unauthorized,
    UnprocessableEntity,
    api_base_url,
)
from services.core.errors import ConfigurationError, InvalidUrlError, RemoteError
from services.core.http import HttpClient
from services.core.logger import EventLogger
from services.core.mash import Mash
from services.core.redaction import Redactor
from services.core.schema import string
from services.core.service import Service
from spec.conftest import AHA_USER_DATA, request_json

TOKEN = AHA_USER_DATA["aha_api_token"]
BASE = "https://acme.aha.io/api/v1/"
NO_BODY = object()


@pytest.fixture
def logger():
    return EventLogger()


@pytest.fixture
def api(logger):
    return AhaApi(HttpClient(logger), domain="acme", url_base="https://aha.io/", token=TOKEN)


def assert_request(call, method, url, body=NO_BODY):
    request = call.request
    assert request.method == method
    assert request.url == url
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    if body is NO_BODY:
        assert request.body is None
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert request_json(call) == body


# --- the base URL ---------------------------------------------------------------------------


def test_base_url_is_built_from_the_account_domain_and_the_default_url_base(logger):
    api = AhaApi(HttpClient(logger), domain="acme", token=TOKEN)
    assert api.base_url == "https://acme.aha.io/"
    assert api_base_url("acme") == "https://acme.aha.io/"
    assert api_base_url("acme", "https://aha.io/") == "https://acme.aha.io/"


@pytest.mark.parametrize(
    ("url_base", "expected"),
    [
        ("https://aha.io", "https://acme.aha.io/"),
        ("https://aha.io:8443/", "https://acme.aha.io:8443/"),
        ("http://lvh.me:3000/", "http://acme.lvh.me:3000/"),
        ("https://ahaqa.io/", "https://acme.ahaqa.io/"),
    ],
)
def test_base_url_follows_the_url_base_keeping_its_port(url_base, expected):
    assert api_base_url("acme", url_base) == expected


def test_url_base_that_is_not_a_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="not a URL"):
        api_base_url("acme", "aha.io")


def test_aha_api_url_overrides_the_base_url_entirely(monkeypatch, mocked_http, api):
    monkeypatch.setenv("AHA_API_URL", "https://aha.example.com/onprem")
    assert api.base_url == "https://aha.example.com/onprem/"
    # Even without a domain, the override is enough.
    assert api_base_url(None) == "https://aha.example.com/onprem/"
    mocked_http.get("https://aha.example.com/onprem/api/v1/features/PROD-1", json={"feature": {}})
    api.feature("PROD-1")
    assert len(mocked_http.calls) == 1
    assert_request(
        mocked_http.calls[0], "GET", "https://aha.example.com/onprem/api/v1/features/PROD-1"
    )


def test_aha_api_url_over_plain_http_is_refused_unless_the_host_is_allowed(
    monkeypatch, mocked_http, api
):
    monkeypatch.setenv("AHA_API_URL", "http://aha.example.com/")
    with pytest.raises(InvalidUrlError, match="plain http"):
        api.feature("PROD-1")
    assert len(mocked_http.calls) == 0

    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "localhost")
    monkeypatch.setenv("AHA_API_URL", "http://localhost:9292")
    mocked_http.get("http://localhost:9292/api/v1/features/PROD-1", json={"feature": {"id": 1}})
    assert api.feature("PROD-1").feature.id == 1
    assert_request(mocked_http.calls[0], "GET", "http://localhost:9292/api/v1/features/PROD-1")


@pytest.mark.parametrize("domain", [None, ""])
def test_missing_domain_is_a_configuration_error(logger, mocked_http, domain):
    api = AhaApi(HttpClient(logger), domain=domain, token=TOKEN)
    with pytest.raises(ConfigurationError, match="aha_account_domain"):
        api.feature("PROD-1")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_a_configuration_error(logger, mocked_http, token):
    api = AhaApi(HttpClient(logger), domain="acme", token=token)
    with pytest.raises(ConfigurationError, match="aha_api_token"):
        api.feature("PROD-1")
    assert len(mocked_http.calls) == 0


def test_a_full_url_as_path_keeps_only_its_path_so_the_token_stays_home(mocked_http, api):
    mocked_http.get(BASE + "features", json={"features": []})
    api.get("https://evil.example.com/api/v1/features?page=2")
    api.get("//evil.example.com/api/v1/features")
    assert len(mocked_http.calls) == 2
    assert_request(mocked_http.calls[0], "GET", BASE + "features?page=2")
    assert_request(mocked_http.calls[1], "GET", BASE + "features")
    assert api.url("/api/v1/users/1") == BASE + "users/1"


# --- requests and answers -------------------------------------------------------------------


def test_sends_bearer_token_and_json_and_answers_a_mash(mocked_http, api):
    mocked_http.post(BASE + "things", json={"thing": {"id": "7", "name": "Seven"}}, status=201)
    answer = api.post("api/v1/things", {"thing": {"name": "Seven"}})
    assert isinstance(answer, Mash)
    assert answer.thing.id == "7"
    assert answer.thing.name == "Seven"
    assert not answer.thing.missing
    assert_request(mocked_http.calls[0], "POST", BASE + "things", {"thing": {"name": "Seven"}})


@pytest.mark.parametrize("verb", ["put", "patch"])
def test_put_and_patch_send_json_bodies(mocked_http, api, verb):
    mocked_http.add(verb.upper(), BASE + "things/1", json={"ok": True})
    assert getattr(api, verb)("api/v1/things/1", {"a": 1}).ok is True
    assert_request(mocked_http.calls[0], verb.upper(), BASE + "things/1", {"a": 1})


def test_get_and_delete_send_params_as_query(mocked_http, api):
    mocked_http.get(BASE + "things", json={"things": []})
    mocked_http.delete(BASE + "things/1", body="", status=204)
    api.get("api/v1/things", q="a b", fields="name")
    answer = api.delete("api/v1/things/1")
    assert_request(mocked_http.calls[0], "GET", BASE + "things?q=a+b&fields=name")
    assert_request(mocked_http.calls[1], "DELETE", BASE + "things/1")
    assert isinstance(answer, Mash)
    assert answer.to_dict() == {}


def test_a_list_answer_is_wrapped_in_items(mocked_http, api):
    mocked_http.get(BASE + "things", json=[{"id": 1}, {"id": 2}])
    answer = api.get("api/v1/things")
    assert [item.id for item in answer["items"]] == [1, 2]


def test_create_integration_fields(mocked_http, api):
    url = BASE + "features/PROD-1/integrations/4242/fields"
    mocked_http.post(url, json={"integration_fields": [{"name": "id", "value": "10"}]})
    answer = api.create_integration_fields(
        "features", "PROD-1", 4242, {"id": "10", "url": "https://x"}
    )
    assert answer.integration_fields[0].value == "10"
    assert_request(
        mocked_http.calls[0],
        "POST",
        url,
        {
            "integration_fields": [
                {"name": "id", "value": "10"},
                {"name": "url", "value": "https://x"},
            ]
        },
    )


def test_create_integration_field(mocked_http, api):
    url = BASE + "releases/PROD-R-1/integrations/4242/fields"
    mocked_http.post(url, json={"integration_field": {"name": "id", "value": "10"}})
    answer = api.create_integration_field("releases", "PROD-R-1", 4242, "id", "10")
    assert answer.integration_field.name == "id"
    assert_request(
        mocked_http.calls[0], "POST", url, {"integration_field": {"name": "id", "value": "10"}}
    )


def test_integration_field(mocked_http, api):
    url = BASE + "features/PROD-1/integrations/4242/fields/number"
    mocked_http.get(url, json={"integration_field": {"name": "number", "value": "12"}})
    answer = api.integration_field("features", "PROD-1", 4242, "number")
    assert answer.integration_field.value == "12"
    assert_request(mocked_http.calls[0], "GET", url)


def test_search_integration_fields_encodes_each_path_segment(mocked_http, api):
    url = BASE + "integrations/4242/fields/url/value/https%3A%2F%2Fx.example.com%2Fa%3Fb%3D1%20c"
    mocked_http.get(url, json={"records": [{"id": "1"}]})
    answer = api.search_integration_fields(4242, "url", "https://x.example.com/a?b=1 c")
    assert answer.records[0].id == "1"
    assert_request(mocked_http.calls[0], "GET", url)


def test_adjacent_integration_fields(mocked_http, api):
    url = BASE + "features/PROD-1/integrations/4242/adjacent_fields"
    mocked_http.get(url, json={"integration_fields": []})
    assert api.adjacent_integration_fields("features", "PROD-1", 4242).integration_fields == []
    assert_request(mocked_http.calls[0], "GET", url)


def test_create_comment(mocked_http, api):
    url = BASE + "features/PROD-1/comments"
    mocked_http.post(url, json={"comment": {"id": "99"}})
    answer = api.create_comment(
        "features", "PROD-1", "jo@example.com", "<p>Hi</p>", created_at="2024-01-01"
    )
    assert answer.comment.id == "99"
    assert_request(
        mocked_http.calls[0],
        "POST",
        url,
        {
            "comment": {
                "body": "<p>Hi</p>",
                "user_email": "jo@example.com",
                "created_at": "2024-01-01",
            }
        },
    )


def test_create_comment_options_cannot_override_the_email(mocked_http, api):
    url = BASE + "ideas/I-1/comments"
    mocked_http.post(url, json={"comment": {}})
    api.create_comment("ideas", "I-1", "jo@example.com", "text", user_email="x@y")
    assert request_json(mocked_http.calls[0]) == {
        "comment": {"body": "text", "user_email": "jo@example.com"}
    }


def test_comments(mocked_http, api):
    url = BASE + "features/PROD-1/comments"
    mocked_http.get(url, json={"comments": [{"id": "1"}]})
    assert api.comments("features", "PROD-1", page=2).comments[0].id == "1"
    assert_request(mocked_http.calls[0], "GET", url + "?page=2")


def test_feature(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, json={"feature": {"reference_num": "PROD-1"}})
    assert api.feature("PROD-1", fields="name").feature.reference_num == "PROD-1"
    assert_request(mocked_http.calls[0], "GET", url + "?fields=name")


def test_create_feature(mocked_http, api):
    url = BASE + "features"
    mocked_http.post(url, json={"feature": {"id": "5"}})
    assert api.create_feature("New", "<p>Desc</p>", release_id="R1").feature.id == "5"
    assert_request(
        mocked_http.calls[0],
        "POST",
        url,
        {"name": "New", "description": "<p>Desc</p>", "release_id": "R1"},
    )


def test_update_feature(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.put(url, json={"feature": {"name": "Renamed"}})
    assert api.update_feature("PROD-1", {"feature": {"name": "Renamed"}}).feature.name == "Renamed"
    assert_request(mocked_http.calls[0], "PUT", url, {"feature": {"name": "Renamed"}})


def test_create_idea(mocked_http, api):
    url = BASE + "products/P1/ideas"
    mocked_http.post(url, json={"idea": {"id": "3"}})
    assert api.create_idea("P1", "Idea", "<p>Why</p>", categories="x").idea.id == "3"
    assert_request(
        mocked_http.calls[0],
        "POST",
        url,
        {"name": "Idea", "description": "<p>Why</p>", "categories": "x"},
    )


def test_integration_candidates(mocked_http, api):
    url = BASE + "integration_candidates"
    mocked_http.get(url, json={"integration_candidates": [{"id": "c"}]})
    answer = api.integration_candidates(q="login")
    assert answer.integration_candidates[0].id == "c"
    assert_request(mocked_http.calls[0], "GET", url + "?q=login")


def test_user(mocked_http, api):
    url = BASE + "users/12"
    mocked_http.get(url, json={"user": {"email": "jo@example.com"}})
    assert api.user(12).user.email == "jo@example.com"
    assert_request(mocked_http.calls[0], "GET", url)


def test_path_segments_with_slashes_cannot_escape_their_place(mocked_http, api):
    url = BASE + "features/a%2F..%2Fusers/comments"
    mocked_http.get(url, json={"comments": []})
    api.comments("features", "a/../users")
    assert_request(mocked_http.calls[0], "GET", url)


# --- errors ---------------------------------------------------------------------------------


ERROR_CLASSES = [
    (400, BadRequest),
    (401, Unauthorized),
    (403, Forbidden),
    (404, NotFound),
    (406, NotAcceptable),
    (422, UnprocessableEntity),
    (500, InternalServerError),
    (501, NotImplemented),
    (502, BadGateway),
    (503, ServiceUnavailable),
]


def test_error_table_is_complete():
    assert dict(ERROR_CLASSES) == ERRORS_BY_STATUS


@pytest.mark.parametrize(("status", "error_class"), ERROR_CLASSES)
def test_error_class_by_status(mocked_http, api, status, error_class):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=status, json={"error": "Nope"})
    with pytest.raises(error_class) as raised:
        api.feature("PROD-1")
    error = raised.value
    assert type(error) is error_class
    assert isinstance(error, AhaApiError)
    assert isinstance(error, RemoteError)
    assert error.status == status
    assert error.body == {"error": "Nope"}
    assert str(error) == f"GET {url} => {status} Nope"


@pytest.mark.parametrize("status", [402, 405, 409, 410, 418, 504])
def test_other_statuses_raise_the_base_error(mocked_http, api, status):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=status, json={"message": "Odd"})
    with pytest.raises(AhaApiError) as raised:
        api.feature("PROD-1")
    assert type(raised.value) is AhaApiError
    assert isinstance(raised.value, RemoteError)
    assert str(raised.value) == f"GET {url} => {status} Odd"


def test_error_message_with_an_errors_list(mocked_http, api):
    url = BASE + "features"
    mocked_http.post(
        url,
        status=422,
        json={
            "error": "Unprocessable Entity",
            "errors": [{"message": "Name can't be blank"}, "Release is missing"],
        },
    )
    with pytest.raises(UnprocessableEntity) as raised:
        api.create_feature("", "")
    assert str(raised.value) == (
        f"POST {url} => 422 Unprocessable Entity: Name can't be blank, Release is missing"
    )
    assert raised.value.message == str(raised.value)


def test_error_message_with_an_errors_hash(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.put(
        url, status=400, json={"error": "Bad Request", "errors": {"message": "Unknown field"}}
    )
    with pytest.raises(BadRequest) as raised:
        api.update_feature("PROD-1", {"feature": {"x": 1}})
    assert str(raised.value) == f"PUT {url} => 400 Bad Request: Unknown field"


def test_error_message_without_errors(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=404, json={"error": "Record not found"})
    mocked_http.delete(url, status=404, body="")
    mocked_http.put(url, status=500, body="<html>oops</html>", content_type="text/html")
    with pytest.raises(NotFound) as found:
        api.feature("PROD-1")
    assert str(found.value) == f"GET {url} => 404 Record not found"
    with pytest.raises(NotFound) as empty:
        api.delete("api/v1/features/PROD-1")
    assert str(empty.value) == f"DELETE {url} => 404"
    with pytest.raises(InternalServerError) as html:
        api.update_feature("PROD-1", {})
    assert str(html.value) == f"PUT {url} => 500"
    assert html.value.body == "<html>oops</html>"


def test_error_message_names_the_url_with_its_query(mocked_http, api):
    mocked_http.get(BASE + "features/PROD-1", status=403, json={"error": "Forbidden"})
    with pytest.raises(Forbidden) as raised:
        api.feature("PROD-1", fields="name")
    assert str(raised.value) == f"GET {BASE}features/PROD-1?fields=name => 403 Forbidden"


# --- pagination -----------------------------------------------------------------------------


def page_of(ids, current, total):
    return {
        "features": [{"id": i} for i in ids],
        "pagination": {"total_records": 99, "total_pages": total, "current_page": current},
    }


def add_page(mocked_http, page, answer, per_page=100, **extra):
    mocked_http.get(
        BASE + "features",
        json=answer,
        match=[
            matchers.query_param_matcher({"page": str(page), "per_page": str(per_page), **extra})
        ],
    )


def paged_queries(mocked_http):
    return [
        (call.request.method, call.request.url.split("?")[0], call.request.params)
        for call in mocked_http.calls
    ]


def test_paginate_walks_every_page_up_to_total_pages(mocked_http, api):
    add_page(mocked_http, 1, page_of([1, 2], 1, 3), per_page=2, q="x")
    add_page(mocked_http, 2, page_of([3, 4], 2, 3), per_page=2, q="x")
    add_page(mocked_http, 3, page_of([5], 3, 3), per_page=2, q="x")
    records = list(api.paginate("api/v1/features", "features", per_page=2, q="x"))
    assert [r.id for r in records] == [1, 2, 3, 4, 5]
    assert all(isinstance(r, Mash) for r in records)
    assert paged_queries(mocked_http) == [
        ("GET", BASE + "features", {"page": str(p), "per_page": "2", "q": "x"}) for p in (1, 2, 3)
    ]
    for call in mocked_http.calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_paginate_finds_the_single_list_without_a_key(mocked_http, api):
    add_page(mocked_http, 1, page_of([1], 1, 2))
    add_page(mocked_http, 2, page_of([2], 2, 2))
    assert [r.id for r in api.paginate("api/v1/features")] == [1, 2]
    assert [q[2]["page"] for q in paged_queries(mocked_http)] == ["1", "2"]


def test_paginate_stops_at_an_empty_page(mocked_http, api):
    add_page(mocked_http, 1, page_of([1], 1, 5))
    add_page(mocked_http, 2, page_of([], 2, 5))
    assert [r.id for r in api.paginate("api/v1/features", "features")] == [1]
    assert [q[2]["page"] for q in paged_queries(mocked_http)] == ["1", "2"]


def test_paginate_without_a_pagination_block_reads_one_page(mocked_http, api):
    add_page(mocked_http, 1, {"features": [{"id": 1}, {"id": 2}]})
    assert [r.id for r in api.paginate("api/v1/features", "features")] == [1, 2]
    assert len(mocked_http.calls) == 1


def test_paginate_stops_at_the_limit(mocked_http, api):
    add_page(mocked_http, 1, page_of([1, 2], 1, 3), per_page=2)
    add_page(mocked_http, 2, page_of([3, 4], 2, 3), per_page=2)
    records = list(api.paginate("api/v1/features", "features", per_page=2, limit=3))
    assert [r.id for r in records] == [1, 2, 3]
    assert [q[2]["page"] for q in paged_queries(mocked_http)] == ["1", "2"]


def test_paginate_does_not_fetch_a_page_it_will_not_use(mocked_http, api):
    add_page(mocked_http, 1, page_of([1, 2], 1, 3), per_page=2)
    add_page(mocked_http, 2, page_of([3, 4], 2, 3), per_page=2)
    records = list(api.paginate("api/v1/features", "features", per_page=2, limit=2))
    assert [r.id for r in records] == [1, 2]
    assert len(mocked_http.calls) == 1


def test_paginate_raises_the_api_error_of_a_failing_page(mocked_http, api):
    add_page(mocked_http, 1, page_of([1], 1, 2))
    mocked_http.get(
        BASE + "features",
        status=404,
        json={"error": "Not found"},
        match=[matchers.query_param_matcher({"page": "2", "per_page": "100"})],
    )
    pages = api.paginate("api/v1/features", "features")
    assert next(pages).id == 1
    with pytest.raises(NotFound):
        next(pages)


# --- rate limits and redirects -------------------------------------------------------------


def test_waits_out_a_429_and_then_succeeds(mocked_http, api, logger, slept):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=429, headers={"Retry-After": "2"}, json={"error": "Slow down"})
    mocked_http.get(url, json={"feature": {"id": "1"}})
    assert api.feature("PROD-1").feature.id == "1"
    assert len(mocked_http.calls) == 2
    assert [c.response.status_code for c in mocked_http.calls] == [429, 200]
    for call in mocked_http.calls:
        assert_request(call, "GET", url)
    assert slept == [2]
    assert {"severity": 1, "message": "rate limited by Aha!, retrying in 2 s"} in logger.messages


def test_retries_a_post_after_a_503_with_retry_after_with_the_same_body(mocked_http, api, slept):
    url = BASE + "features/PROD-1/comments"
    mocked_http.post(url, status=503, headers={"Retry-After": "0"})
    mocked_http.post(url, json={"comment": {"id": "c"}})
    assert api.create_comment("features", "PROD-1", "a@b.c", "hi").comment.id == "c"
    assert len(mocked_http.calls) == 2
    for call in mocked_http.calls:
        assert_request(call, "POST", url, {"comment": {"body": "hi", "user_email": "a@b.c"}})
    assert slept == [0]


def test_gives_up_after_the_bound_with_service_unavailable(mocked_http, api, logger, slept):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=503, headers={"Retry-After": "1"}, json={"error": "Down"})
    with pytest.raises(ServiceUnavailable) as raised:
        api.feature("PROD-1")
    assert str(raised.value) == f"GET {url} => 503 Down"
    assert len(mocked_http.calls) == rate_limits.ATTEMPTS == 5
    assert slept == [1, 1, 1, 1]
    assert logger.messages[-1]["message"] == (
        f"Still rate limited by Aha! after 5 attempts of GET {url}"
    )


def test_a_429_that_never_ends_is_an_api_error_after_the_bound(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=429, headers={"Retry-After": "0"}, json={"error": "Slow down"})
    with pytest.raises(AhaApiError) as raised:
        api.feature("PROD-1")
    assert raised.value.status == 429
    assert len(mocked_http.calls) == rate_limits.ATTEMPTS


@pytest.mark.parametrize("status", [500, 503])
def test_other_errors_are_not_retried(mocked_http, api, slept, status):
    # A 503 without Retry-After says nothing about when to come back.
    mocked_http.get(BASE + "features/PROD-1", status=status, json={"error": "Boom"})
    with pytest.raises(AhaApiError):
        api.feature("PROD-1")
    assert len(mocked_http.calls) == 1
    assert slept == []


def test_the_api_client_names_aha_in_its_messages(logger):
    http = HttpClient(logger)
    AhaApi(http, domain="acme", token=TOKEN)
    assert http.remote_name == "Aha!"


def test_a_comment_post_answered_301_is_sent_again_with_its_body(mocked_http, api, logger):
    old = BASE + "features/PROD-1/comments"
    new = BASE + "features/PROD-1-renamed/comments"
    location = "/api/v1/features/PROD-1-renamed/comments"
    mocked_http.post(old, status=301, headers={"Location": location})
    mocked_http.post(new, status=201, json={"comment": {"id": "99"}})
    answer = api.create_comment("features", "PROD-1", "jo@example.com", "<p>Hi</p>")
    assert answer.comment.id == "99"
    assert len(mocked_http.calls) == 2
    body = {"comment": {"body": "<p>Hi</p>", "user_email": "jo@example.com"}}
    assert_request(mocked_http.calls[0], "POST", old, body)
    assert_request(mocked_http.calls[1], "POST", new, body)
    assert {"severity": 1, "message": f"POST {old} moved (301) to {new}"} in logger.messages


def test_a_comment_post_answered_303_is_an_error_and_no_get_is_sent(mocked_http, api):
    old = BASE + "features/PROD-1/comments"
    mocked_http.post(old, status=303, headers={"Location": BASE + "features/PROD-1"})
    with pytest.raises(RemoteError, match=r"moved \(303\) to https://acme.aha.io/api/v1/features"):
        api.create_comment("features", "PROD-1", "jo@example.com", "<p>Hi</p>")
    assert len(mocked_http.calls) == 1
    assert_request(
        mocked_http.calls[0],
        "POST",
        old,
        {"comment": {"body": "<p>Hi</p>", "user_email": "jo@example.com"}},
    )


def test_the_token_does_not_follow_a_redirect_to_another_host(mocked_http, api):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, status=302, headers={"Location": "https://files.example.com/f?x=1"})
    mocked_http.get("https://files.example.com/f?x=1", json={"feature": {"id": "1"}})
    assert api.feature("PROD-1").feature.id == "1"
    assert len(mocked_http.calls) == 2
    assert_request(mocked_http.calls[0], "GET", url)
    second = mocked_http.calls[1].request
    assert second.method == "GET"
    assert second.url == "https://files.example.com/f?x=1"
    assert "Authorization" not in second.headers
    assert second.body is None


# --- the token stays secret -----------------------------------------------------------------


def test_the_token_is_never_in_a_url_a_log_line_or_an_error(mocked_http, api, logger):
    url = BASE + "features/PROD-1"
    mocked_http.get(url, json={"feature": {"id": "1"}})
    mocked_http.put(url, status=401, json={"error": "Unauthorized", "errors": ["bad key"]})
    api.feature("PROD-1")
    with pytest.raises(Unauthorized) as raised:
        api.update_feature("PROD-1", {"feature": {}})
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value.args)
    assert logger.messages, "the client logs its requests"
    for entry in logger.messages:
        assert TOKEN not in entry["message"]
    for call in mocked_http.calls:
        assert TOKEN not in call.request.url
        assert TOKEN not in (call.request.body or b"").decode()


@pytest.mark.parametrize(
    "location",
    ["https://other.example.com/elsewhere", "http://acme.aha.io/api/v1/features/PROD-2"],
)
def test_a_redirect_to_another_host_or_to_plain_http_drops_the_token(mocked_http, api, location):
    mocked_http.get(BASE + "features/PROD-1", status=302, headers={"Location": location})
    mocked_http.get(location, json={"feature": {"id": "2"}})
    assert api.feature("PROD-1").feature.id == "2"
    assert len(mocked_http.calls) == 2
    assert_request(mocked_http.calls[0], "GET", BASE + "features/PROD-1")
    hop = mocked_http.calls[1].request
    assert hop.url == location
    assert "Authorization" not in hop.headers


def test_a_redirect_within_the_account_keeps_the_token(mocked_http, api):
    mocked_http.get(
        BASE + "features/PROD-1", status=301, headers={"Location": BASE + "features/PROD-9"}
    )
    mocked_http.get(BASE + "features/PROD-9", json={"feature": {"id": "9"}})
    assert api.feature("PROD-1").feature.id == "9"
    assert_request(mocked_http.calls[1], "GET", BASE + "features/PROD-9")


def test_a_token_echoed_by_aha_is_filtered_from_logs_when_the_logger_knows_it(mocked_http):
    logger = EventLogger(redactor=Redactor([TOKEN]))
    api = AhaApi(HttpClient(logger), domain="acme", token=TOKEN)
    mocked_http.get(BASE + "features/PROD-1", status=401, json={"error": f"Bad token {TOKEN}"})
    with pytest.raises(Unauthorized):
        api.feature("PROD-1")
    assert any("[FILTERED]" in entry["message"] for entry in logger.messages)
    assert all(TOKEN not in entry["message"] for entry in logger.messages)


def test_a_service_registers_the_token_with_its_logger(mocked_http, user_data):
    class TokenEcho(Service):
        schema = (string("server_url"),)

    service = TokenEcho(user_data)
    mocked_http.get(BASE + "users/1", status=401, json={"error": f"Bad token {TOKEN}"})
    with pytest.raises(Unauthorized):
        service.api.user(1)
    assert_request(mocked_http.calls[0], "GET", BASE + "users/1")
    assert service.logger.messages
    assert all(TOKEN not in entry["message"] for entry in service.logger.messages)


def test_a_token_echoed_by_aha_never_reaches_the_exception_or_the_log(mocked_http, api, logger):
    mocked_http.get(BASE + "features/PROD-1", status=401, json={"error": f"Bad token {TOKEN}"})
    with pytest.raises(Unauthorized) as raised:
        api.feature("PROD-1")
    assert all(TOKEN not in entry["message"] for entry in logger.messages)
    assert TOKEN not in str(raised.value)


def test_paginate_moves_on_when_the_answer_names_an_earlier_page(mocked_http, api):
    add_page(mocked_http, 1, page_of([1], 1, 3))
    add_page(mocked_http, 2, page_of([2], 1, 3))
    add_page(mocked_http, 3, page_of([3], 1, 3))
    assert [r.id for r in api.paginate("api/v1/features", "features")] == [1, 2, 3]
    assert [q[2]["page"] for q in paged_queries(mocked_http)] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "pagination", ["two pages", {"total_pages": "²", "current_page": None}, [1, 2]]
)
def test_paginate_reads_one_page_when_the_pagination_is_not_understood(
    mocked_http, api, pagination
):
    add_page(mocked_http, 1, {"features": [{"id": 1}], "pagination": pagination})
    assert [r.id for r in api.paginate("api/v1/features", "features")] == [1]
    assert len(mocked_http.calls) == 1
