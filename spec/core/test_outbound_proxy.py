"""HTTPS_PROXY, HTTP_PROXY and NO_PROXY reach every outbound request, as requests reads them."""

import os

import pytest
import requests
from requests.utils import select_proxy

from services.core import ConfigurationError, InvalidUrlError, address_guard
from services.core.http import HttpClient
from services.core.logger import EventLogger
from services.webhooks import Webhooks
from spec.conftest import json_fixture, request_json

PROXY = "http://proxy.corp.example:3128"


@pytest.fixture
def proxy_environment(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "direct.example.com")


def test_requests_go_through_the_configured_proxy(proxy_environment, mocked_http):
    mocked_http.get("https://acme.aha.io/api/v1/me", json={})
    http = HttpClient(EventLogger())
    http.get("https://acme.aha.io/api/v1/me")
    assert http.session.trust_env is True
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("GET", "https://acme.aha.io/api/v1/me")
    assert call.request.req_kwargs["proxies"].get("https") == PROXY


def test_no_proxy_hosts_are_reached_directly(proxy_environment, mocked_http):
    mocked_http.get("https://direct.example.com/x", json={})
    HttpClient(EventLogger()).get("https://direct.example.com/x")
    assert "https" not in mocked_http.calls[0].request.req_kwargs["proxies"]


def test_the_guard_still_checks_the_target_behind_a_proxy(proxy_environment, mocked_http):
    with pytest.raises(InvalidUrlError, match="10.1.2.3 is not a public address"):
        HttpClient(EventLogger()).get("https://intranet.example.com/x")
    with pytest.raises(InvalidUrlError, match="not a public address"):
        HttpClient(EventLogger()).get("https://192.168.1.10/x")
    assert len(mocked_http.calls) == 0


def test_a_name_only_the_proxy_can_resolve_is_left_to_the_proxy(proxy_environment, mocked_http):
    mocked_http.get("https://nowhere.invalid/x", json={"ok": True})
    answer = HttpClient(EventLogger()).get("https://nowhere.invalid/x")
    assert answer.json() == {"ok": True}
    assert mocked_http.calls[0].request.req_kwargs["proxies"].get("https") == PROXY


def test_without_a_proxy_a_name_that_does_not_resolve_is_an_error(monkeypatch, mocked_http):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="Could not resolve host nowhere.invalid"):
        HttpClient(EventLogger()).get("https://nowhere.invalid/x")
    assert len(mocked_http.calls) == 0


def event_with_hook(hook_url):
    payload = json_fixture("create_feature_event.json")
    Webhooks(data={"hook_url": hook_url}, payload=payload).receive("create_feature")


def test_an_event_reaches_a_name_only_the_proxy_can_resolve(proxy_environment, mocked_http):
    mocked_http.post("https://nowhere.invalid/hook", json={})
    event_with_hook("https://nowhere.invalid/hook")
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == ("POST", "https://nowhere.invalid/hook")
    assert request_json(call)["feature"]["reference_num"]
    assert call.request.req_kwargs["proxies"].get("https") == PROXY


def test_an_event_still_refuses_a_private_target_behind_a_proxy(proxy_environment, mocked_http):
    with pytest.raises(InvalidUrlError, match="hook_url: .*10.1.2.3 is not a public address"):
        event_with_hook("https://intranet.example.com/hook")
    assert len(mocked_http.calls) == 0


def test_an_event_to_a_no_proxy_name_that_does_not_resolve_fails(
    proxy_environment, mocked_http, fake_dns
):
    fake_dns["direct.example.com"] = []
    with pytest.raises(ConfigurationError, match="Could not resolve host direct.example.com"):
        event_with_hook("https://direct.example.com/hook")
    assert len(mocked_http.calls) == 0


@pytest.fixture
def no_proxy_variables(monkeypatch):
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def test_without_proxy_variables_the_environment_is_not_read_whole(no_proxy_variables, monkeypatch):
    from requests import sessions, utils

    def scan(*args, **kwargs):
        raise AssertionError("read the whole environment")

    monkeypatch.setattr(utils, "get_environ_proxies", scan)
    monkeypatch.setattr(sessions, "get_environ_proxies", scan)
    assert address_guard.environment_proxy("https://acme.example.com/x") is False
    http = HttpClient(EventLogger())
    for bundle in ("", "/etc/ssl/corp.pem"):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
        for verify in (None, True, False, "/own.pem"):
            merged = http.session.merge_environment_settings(
                "https://acme.example.com/x", {}, None, verify, None
            )
            monkeypatch.setattr(sessions, "get_environ_proxies", lambda *a, **k: {})
            plain = requests.Session().merge_environment_settings(
                "https://acme.example.com/x", {}, None, verify, None
            )
            monkeypatch.setattr(sessions, "get_environ_proxies", scan)
            assert merged == plain


@pytest.mark.parametrize("name", ["Https_Proxy", "ALL_PROXY", "ftp_proxy", "no_proxy"])
def test_any_proxy_variable_leaves_the_choice_to_requests(no_proxy_variables, monkeypatch, name):
    monkeypatch.setenv(name, PROXY if name != "no_proxy" else "acme.example.com")
    assert address_guard.no_proxy_settings() is False
    through_proxy = name in ("Https_Proxy", "ALL_PROXY")
    assert address_guard.environment_proxy("https://public.example.com/x") is through_proxy
    merged = HttpClient(EventLogger()).session.merge_environment_settings(
        "https://public.example.com/x", {}, None, True, None
    )
    chosen = select_proxy("https://public.example.com/x", merged["proxies"])
    assert (chosen == PROXY) is through_proxy
