import json

import click
import pytest
import requests
from click.testing import CliRunner
from responses import matchers

from services.core import ConfigurationError
from services.core.aha_api import AhaApi
from services.core.cli import app as cli
from services.core.cli import token_store
from services.core.entities import AhaEntities, EntityParams, fill_path
from services.core.http import HttpClient
from services.core.logger import EventLogger
from services.core.registry import load_registry
from spec.conftest import request_json

BASE = "https://acme.aha.io"
GOAL_COMMENTS = "/api/v1/goals/{goal_id}/comments"


@pytest.fixture
def entities():
    api = AhaApi(HttpClient(EventLogger()), domain="acme", token="aha-token-entity")
    return AhaEntities(api)


def page(number, total, records):
    return {
        "comments": records,
        "pagination": {"total_records": 5, "total_pages": total, "current_page": number},
    }


def test_fill_path_encodes_values():
    assert fill_path("/Actions/{id}", {"id": "AC12"}) == "/Actions/AC12"
    assert fill_path("/a/{x}/b/{y}", {"x": "a b/c", "y": 7}) == "/a/a%20b%2Fc/b/7"


def test_fill_path_names_every_missing_parameter():
    with pytest.raises(ConfigurationError, match=r"/a/\{x\}/\{y\}: x, y"):
        fill_path("/a/{x}/{y}", {"z": 1})
    with pytest.raises(ConfigurationError, match=r"parameter for /a/\{x\}: x"):
        fill_path("/a/{x}", {"x": ""})


def test_params_from_a_mapping():
    params = EntityParams.from_mapping({"path": {"id": 1}, "query": {"q": "x"}, "payload": [1]})
    assert (params.path, params.query, params.payload) == ({"id": 1}, {"q": "x"}, [1])
    assert EntityParams.from_mapping(None) == EntityParams()
    with pytest.raises(ConfigurationError, match="Unknown request parameter parts: body"):
        EntityParams.from_mapping({"body": {}})
    with pytest.raises(ConfigurationError, match="path parameters must be an object"):
        EntityParams.from_mapping({"path": [1]})


def test_subscribe_reads_one_page_as_aha_answers(entities, mocked_http):
    url = f"{BASE}/api/v1/goals/7416189478687263166/comments"
    mocked_http.get(url, json=page(1, 3, [{"id": "1"}]))
    params = EntityParams({"goal_id": "7416189478687263166"}, {"q": "x"})
    answer = entities.subscribe(GOAL_COMMENTS, params)
    assert answer["comments"] == [{"id": "1"}]
    call = mocked_http.calls[0]
    assert call.request.url == url + "?q=x"
    assert call.request.headers["Authorization"] == "Bearer aha-token-entity"


def test_subscribe_follows_pagination_to_the_end_or_a_limit(entities, mocked_http):
    url = f"{BASE}/api/v1/goals/9/comments"
    for number in (1, 2, 3):
        mocked_http.get(
            url,
            json=page(number, 3, [{"id": f"{number}a"}, {"id": f"{number}b"}]),
            match=[matchers.query_param_matcher({"page": str(number), "per_page": "100"})],
        )
    records = entities.subscribe(GOAL_COMMENTS, EntityParams({"goal_id": 9}), all_pages=True)
    assert [r["id"] for r in records] == ["1a", "1b", "2a", "2b", "3a", "3b"]
    limited = entities.subscribe(GOAL_COMMENTS, EntityParams({"goal_id": 9}), limit=3)
    assert [r["id"] for r in limited] == ["1a", "1b", "2a"]
    assert len(mocked_http.calls) == 5


def test_subscribe_starts_at_the_page_and_size_the_query_names(entities, mocked_http):
    url = f"{BASE}/api/v1/goals/9/comments"
    mocked_http.get(
        url,
        json=page(2, 2, [{"id": "2a"}]),
        match=[matchers.query_param_matcher({"page": "2", "per_page": "5"})],
    )
    query = {"page": "2", "per_page": " 5 "}
    records = entities.subscribe(GOAL_COMMENTS, EntityParams({"goal_id": 9}, query), limit=3)
    assert [r["id"] for r in records] == ["2a"]
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer aha-token-entity"


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1e3", "²", "9" * 12, ""])
@pytest.mark.parametrize("name", ["page", "per_page"])
def test_a_paging_value_that_is_not_a_page_number_is_refused(entities, mocked_http, name, value):
    params = EntityParams({"goal_id": 9}, {name: value})
    with pytest.raises(ConfigurationError, match=f"query value {name} must be a whole number"):
        entities.subscribe(GOAL_COMMENTS, params, all_pages=True)
    assert len(mocked_http.calls) == 0


def test_cli_paging_value_of_text_is_a_usage_error(aha_env, mocked_http):
    result = run("aha", "get", "/api/v1/features", "--query", "page=abc", "--all-pages")
    assert result.exit_code == 2
    assert "query value page must be a whole number from 1, not 'abc'" in result.stderr
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_publish_sends_the_payload(entities, mocked_http, method):
    url = f"{BASE}/api/v1/goals/9/comments"
    mocked_http.add(method, url, json={"comment": {"id": "1"}})
    payload = {"comment": {"body": "<p>Hi</p>"}} if method != "DELETE" else None
    params = EntityParams({"goal_id": 9}, {}, payload)
    assert entities.publish(method.lower(), GOAL_COMMENTS, params) == {"comment": {"id": "1"}}
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == (method, url)
    if payload:
        assert request_json(call) == payload
    else:
        assert call.request.body is None


def test_publish_refuses_other_methods(entities, mocked_http):
    with pytest.raises(ConfigurationError, match="not PATCH"):
        entities.publish("PATCH", GOAL_COMMENTS, EntityParams({"goal_id": 9}))
    assert len(mocked_http.calls) == 0


@pytest.fixture(autouse=True)
def token_file(tmp_path, monkeypatch):
    """No spec reads the user's own stored Aha! token."""
    path = tmp_path / "config" / "token.json"
    monkeypatch.setattr(token_store, "default_token_path", lambda: path)
    return path


@pytest.fixture
def aha_env(monkeypatch):
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    monkeypatch.setenv("AHA_API_TOKEN", "aha-token-cli-0001")


def run(*args, **kwargs):
    return CliRunner().invoke(cli.main, list(args), **kwargs)


def test_cli_get_with_all_pages(aha_env, mocked_http):
    url = f"{BASE}/api/v1/goals/7416189478687263166/comments"
    mocked_http.get(url, json=page(1, 1, [{"id": "c1"}]))
    result = run(
        "aha", "get", GOAL_COMMENTS, "--path", "goal_id=7416189478687263166", "--all-pages"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"id": "c1"}]
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer aha-token-cli-0001"


def test_cli_post_with_a_payload_file(aha_env, mocked_http, tmp_path):
    body = tmp_path / "comment.json"
    body.write_text('{"comment": {"body": "From the command line"}}')
    mocked_http.post(f"{BASE}/api/v1/goals/9/comments", json={"comment": {"id": "c2"}}, status=201)
    result = run("aha", "post", GOAL_COMMENTS, "--path", "goal_id=9", "--payload", f"@{body}")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"comment": {"id": "c2"}}
    assert request_json(mocked_http.calls[0]) == {"comment": {"body": "From the command line"}}


def test_cli_uses_aha_api_url_when_set(monkeypatch, mocked_http):
    monkeypatch.setenv("AHA_API_URL", "https://aha.internal.example.com/")
    monkeypatch.setenv("AHA_API_TOKEN", "aha-token-cli-0001")
    mocked_http.get("https://aha.internal.example.com/api/v1/me", json={"user": {"id": "1"}})
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"user": {"id": "1"}}


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "AHA_DOMAIN (or AHA_API_URL) is not set"),
        ({"AHA_DOMAIN": "acme"}, "AHA_API_TOKEN is not set"),
        ({"AHA_DOMAIN": "acme", "AHA_API_TOKEN": "x" * 12}, "AHA_DOMAIN is not set"),
    ],
)
def test_cli_names_a_missing_setting_and_exits_2(monkeypatch, mocked_http, env, missing):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if "AHA_API_TOKEN" in env:
        monkeypatch.delenv("AHA_DOMAIN")
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 2
    assert f"Error: {missing}" in result.stderr
    assert "Usage:" not in result.stderr
    assert len(mocked_http.calls) == 0


def test_cli_missing_path_parameter_is_a_usage_error(aha_env, mocked_http):
    result = run("aha", "get", GOAL_COMMENTS)
    assert result.exit_code == 2
    assert "Missing path parameter for /api/v1/goals/{goal_id}/comments: goal_id" in result.output


def test_cli_reports_an_aha_error_and_exits_3(aha_env, mocked_http):
    mocked_http.get(f"{BASE}/api/v1/goals/1/comments", status=404, json={"error": "Not found"})
    result = run("aha", "get", GOAL_COMMENTS, "--path", "goal_id=1")
    assert result.exit_code == 3
    assert "=> 404 Not found" in result.stderr
    assert "aha-token-cli-0001" not in result.output


def test_cli_without_dns_is_a_network_failure_not_a_usage_error(monkeypatch, mocked_http):
    monkeypatch.setenv("AHA_API_URL", "https://nowhere.invalid")
    monkeypatch.setenv("AHA_API_TOKEN", "aha-token-cli-0001")
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 3
    assert "Could not resolve host nowhere.invalid" in result.stderr
    assert "Usage:" not in result.output
    assert len(mocked_http.calls) == 0


def test_cli_connection_refused_is_a_network_failure(aha_env, mocked_http):
    mocked_http.get(f"{BASE}/api/v1/me", body=requests.ConnectionError("connection refused"))
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 3
    assert "Could not connect to acme.aha.io" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["aha", "get", "/x", "--path", "novalue"], "expected name=value"),
        (["aha", "post", "/x", "--payload", "{bad"], "malformed JSON at line 1, column 2"),
        (["aha", "post", "/x", "--payload", "@/no/such.json"], "no such file: /no/such.json"),
        (["aha", "put", "/x", "--payload", "{}", "--payload", "{"], "malformed JSON"),
    ],
)
def test_cli_bad_arguments(aha_env, mocked_http, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(mocked_http.calls) == 0


def test_cli_payload_from_standard_input(aha_env, mocked_http):
    mocked_http.put(f"{BASE}/api/v1/features/F-1", json={"feature": {"id": "F-1"}})
    body = '{"feature": {"name": "Renamed"}}'
    result = run(
        "aha", "put", "/api/v1/features/{id}", "--path", "id=F-1", "--payload", "-", input=body
    )
    assert result.exit_code == 0, result.output
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("PUT", f"{BASE}/api/v1/features/F-1")
    assert request_json(call) == {"feature": {"name": "Renamed"}}
    assert call.request.headers["Authorization"] == "Bearer aha-token-cli-0001"


def test_service_modules_can_offer_commands(monkeypatch):
    @click.command("halo-hello")
    def hello():
        click.echo("hello from a service module")

    registry = load_registry()
    registry.commands["halo-hello"] = hello
    monkeypatch.setattr(cli, "default_registry", lambda: registry)
    assert "halo-hello" in run("--help").output
    assert run("halo-hello").output == "hello from a service module\n"
