"""Next pages are read from the configured server, whatever host a link names."""

import pytest

from services.core.errors import RemoteError
from services.core.http import HttpClient
from services.core.logger import EventLogger
from services.gitlab_issues import GitlabIssues
from spec.conftest import json_fixture

GITLAB = "https://gitlab.example.com/api/v4"
INTERNAL = "http://gitlab-internal:8080/api/v4"
QUERY = "membership=true&with_issues_enabled=true&per_page=100"
TOKEN = "glpat-Pr0xied-secret-88"


def _raise_for_status(response):
    if response.status_code >= 400:
        raise RemoteError(f"status {response.status_code}")


def gitlab(user_data):
    data = {**user_data, "private_token": TOKEN, "server_url": GITLAB}
    return GitlabIssues(data, {}, {})


def assert_gitlab_calls(mocked_http, urls):
    assert [(c.request.method, c.request.url) for c in mocked_http.calls] == [
        ("GET", url) for url in urls
    ]
    for call in mocked_http.calls:
        assert call.request.headers["PRIVATE-TOKEN"] == TOKEN
        assert call.request.body is None


def test_a_next_link_on_another_host_is_read_from_the_configured_server(user_data, mocked_http):
    mocked_http.get(
        f"{GITLAB}/projects?{QUERY}",
        json=json_fixture("gitlab_issues/projects_page_1.json"),
        headers={"Link": f'<{INTERNAL}/projects?{QUERY}&page=2>; rel="next"'},
    )
    mocked_http.get(
        f"{GITLAB}/projects?{QUERY}&page=2",
        json=json_fixture("gitlab_issues/projects_page_2.json"),
    )
    service = gitlab(user_data)
    service.receive("installed")
    assert_gitlab_calls(
        mocked_http, [f"{GITLAB}/projects?{QUERY}", f"{GITLAB}/projects?{QUERY}&page=2"]
    )
    assert [repo["id"] for repo in service.meta_data_to_return()["repos"]] == [5501, 5502, 6120]


def test_gitlab_x_next_page_alone_is_followed_on_the_configured_server(user_data, mocked_http):
    mocked_http.get(
        f"{GITLAB}/projects?{QUERY}",
        json=json_fixture("gitlab_issues/projects_page_1.json"),
        headers={"X-Next-Page": "2", "X-Page": "1"},
    )
    mocked_http.get(
        f"{GITLAB}/projects?{QUERY}&page=2",
        json=json_fixture("gitlab_issues/projects_page_2.json"),
        headers={"X-Next-Page": "", "X-Page": "2"},
    )
    service = gitlab(user_data)
    service.receive("installed")
    assert_gitlab_calls(
        mocked_http, [f"{GITLAB}/projects?{QUERY}", f"{GITLAB}/projects?{QUERY}&page=2"]
    )
    assert len(service.meta_data_to_return()["repos"]) == 3


def test_a_next_link_outside_the_base_path_is_an_error_naming_it(user_data, mocked_http):
    link = "https://gitlab.example.com/admin/projects?page=2"
    mocked_http.get(
        f"{GITLAB}/projects?{QUERY}",
        json=json_fixture("gitlab_issues/projects_page_1.json"),
        headers={"Link": f'<{link}>; rel="next"'},
    )
    with pytest.raises(RemoteError) as raised:
        gitlab(user_data).receive("installed")
    assert str(raised.value) == (
        f"The next page link {link} is outside {GITLAB}, so it was not followed"
    )
    assert_gitlab_calls(mocked_http, [f"{GITLAB}/projects?{QUERY}"])


@pytest.mark.parametrize(
    "link",
    [
        "https://api.example.com/v3/items?page=2",
        "https://api.example.com/v2/items/../../admin?page=2",
        "https://api.example.com/v2/items/%2e%2e/%2e%2e/admin?page=2",
        "https://api.example.com/v22/items?page=2",
    ],
)
def test_a_link_that_climbs_out_of_the_base_path_is_refused(mocked_http, link):
    url = "https://api.example.com/v2/items"
    mocked_http.get(url, json=[1], headers={"Link": f'<{link}>; rel="next"'})
    with pytest.raises(RemoteError, match="is outside https://api.example.com/v2"):
        HttpClient(EventLogger()).get_all_pages(
            url, base_url="https://api.example.com/v2/", check=_raise_for_status
        )
    assert len(mocked_http.calls) == 1


def test_without_a_base_url_the_first_requests_origin_is_the_base(mocked_http):
    url = "https://api.example.com/items"
    link = "https://evil.example.com/other/items?page=2"
    mocked_http.get(url, json=[1], headers={"Link": f'<{link}>; rel="next"'})
    mocked_http.get("https://api.example.com/other/items?page=2", json=[2])
    http = HttpClient(EventLogger())
    auth = {"Authorization": "Bearer t0ken-123456"}
    assert http.get_all_pages(url, check=_raise_for_status, headers=auth) == [1, 2]
    assert [c.request.url for c in mocked_http.calls] == [
        url,
        "https://api.example.com/other/items?page=2",
    ]
    for call in mocked_http.calls:
        assert call.request.headers["Authorization"] == "Bearer t0ken-123456"


def test_a_relative_next_link_is_read_on_the_base(mocked_http):
    url = "https://api.example.com/v2/items"
    mocked_http.get(url, json=[1], headers={"Link": '</v2/items?cursor=b>; rel="next"'})
    mocked_http.get(f"{url}?cursor=b", json=[2])
    assert HttpClient(EventLogger()).get_all_pages(
        url, base_url="https://api.example.com/v2", check=_raise_for_status
    ) == [1, 2]
    assert [c.request.url for c in mocked_http.calls] == [url, f"{url}?cursor=b"]


def test_an_x_next_page_that_is_not_a_number_is_an_error(mocked_http):
    url = "https://api.example.com/items"
    mocked_http.get(url, json=[1], headers={"X-Next-Page": "two"})
    with pytest.raises(RemoteError, match="not a page number: 'two'"):
        HttpClient(EventLogger()).get_all_pages(url, check=_raise_for_status)
    assert len(mocked_http.calls) == 1
