"""Azure DevOps Server (``tfs_on_premise``): the collection's address, the API version, and
Windows (NTLM) sign-in. What both services share is specified in test_tfs.py."""

import base64
import sys
import types

import pytest
from responses import matchers

from services.azure_devops import AzureDevOpsServer
from services.azure_devops import project_data as project_data_module
from services.core import ConfigurationError
from services.core.ntlm import offered_schemes, offers_only_windows_sign_in
from spec.conftest import raw_fixture, request_json

SERVER = "https://tfs.acme.example/tfs/DefaultCollection"
USER = "ACME\\maya"
PASSWORD = "Wint3r-Passw0rd-9f2c"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
PAYMENTS = "6f2b9c1e-4d3a-4e8b-9a51-2c7d8e0f1a23"


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "server_url": f"{SERVER}/",
        "user_name": USER,
        "user_password": PASSWORD,
        "project": PAYMENTS,
        "feature_mapping": "Feature",
        "requirement_mapping": "User Story",
    }


def service_for(settings, payload=None):
    return AzureDevOpsServer(settings, payload or {}, {})


def projects(mocked_http, api="5.0", **options):
    mocked_http.get(
        f"{SERVER}/_apis/projects",
        match=[
            matchers.query_param_matcher({"$top": "100", "$skip": "0", "api-version": api}),
        ],
        **options,
    )


def test_schema_keeps_the_names_aha_stores():
    assert (AzureDevOpsServer.service_name, AzureDevOpsServer.title) == (
        "tfs_on_premise",
        "Azure DevOps Server",
    )
    names = [(f.type, f.name) for f in AzureDevOpsServer.schema]
    assert names[:5] == [
        ("string", "server_url"),
        ("string", "user_name"),
        ("password", "user_password"),
        ("select", "api_version"),
        ("install_button", "install_button"),
    ]
    versions = AzureDevOpsServer.field_by_name("api_version").options["collection"]
    assert versions == [["5.0", "5.0"], ["6.0", "6.0"], ["7.0", "7.0"], ["7.1", "7.1"]]
    assert names[-1] == ("callback_url", "callback_url")


@pytest.mark.parametrize(("chosen", "sent"), [(None, "5.0"), ("7.1", "7.1")])
def test_requests_go_to_the_collection_with_the_chosen_api_version(
    settings, mocked_http, chosen, sent
):
    if chosen:
        settings["api_version"] = chosen
    projects(mocked_http, api=sent, json={"count": 0, "value": []})
    service = service_for(settings)
    service.receive("installed")
    assert service.meta_data_to_return()["projects"] == {}
    assert mocked_http.calls[0].request.headers["Authorization"] == BASIC
    assert PASSWORD not in str(service.logger.messages)


def test_an_api_version_not_offered_is_named_before_any_request(settings, mocked_http):
    settings["api_version"] = "4.1"
    with pytest.raises(ConfigurationError, match="api_version"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("url", ["", "tfs.acme.example/tfs"])
def test_a_missing_or_unusable_server_url_is_named(settings, mocked_http, url):
    settings["server_url"] = url
    with pytest.raises(ConfigurationError, match="server_url"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


def test_a_version_the_server_does_not_offer_names_the_highest_it_does(settings, mocked_http):
    settings["api_version"] = "7.1"
    projects(
        mocked_http,
        api="7.1",
        status=400,
        body=raw_fixture("azure_devops/error_version.json"),
    )
    with pytest.raises(ConfigurationError, match=r"api_version.*highest it offers is 6\.0"):
        service_for(settings).receive("installed")


def test_a_moved_server_is_named_not_followed(settings, mocked_http):
    projects(
        mocked_http,
        status=301,
        headers={"Location": "https://devops.acme.example/DefaultCollection/_apis/projects"},
    )
    with pytest.raises(ConfigurationError, match="devops.acme.example.*server_url"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 1


def test_plain_http_is_refused_for_credentials(settings, mocked_http):
    settings["server_url"] = "http://tfs.acme.example/tfs/DefaultCollection"
    with pytest.raises(Exception, match="plain http"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 0


# --- Windows sign-in -------------------------------------------------------------------------

NTLM_ONLY = {"WWW-Authenticate": "Negotiate, NTLM"}


@pytest.mark.parametrize(
    ("header", "schemes", "only"),
    [
        ("Negotiate, NTLM", {"negotiate", "ntlm"}, True),
        ('Basic realm="tfs", NTLM', {"basic", "ntlm"}, False),
        (
            'Bearer authorization_uri="https://login.example/x", Basic realm="a"',
            {"bearer", "basic"},
            False,
        ),
        ("", set(), False),
    ],
)
def test_the_schemes_a_401_offers(header, schemes, only):
    import requests

    response = requests.Response()
    response.status_code = 401
    response.headers["WWW-Authenticate"] = header
    assert offered_schemes(response) == schemes
    assert offers_only_windows_sign_in(response) is only


def test_a_server_offering_only_windows_sign_in_asks_for_a_token_without_the_extra(
    settings, mocked_http, monkeypatch
):
    monkeypatch.setitem(sys.modules, "requests_ntlm", None)  # not installed
    projects(mocked_http, status=401, headers=NTLM_ONLY)
    service = service_for(settings)
    with pytest.raises(ConfigurationError, match="personal access token.*user_password") as error:
        service.receive("installed")
    assert "aha-services[ntlm]" in str(error.value)
    assert PASSWORD not in str(error.value)
    assert len(mocked_http.calls) == 1


class FakeNtlmAuth:
    """Stands in for requests_ntlm.HttpNtlmAuth: signs each request with a marker header."""

    made: list = []

    def __init__(self, username, password):
        self.username, self.password = username, password
        FakeNtlmAuth.made.append(username)

    def __call__(self, request):
        request.headers["Authorization"] = "NTLM TlRMTVNTUAADAAAA"
        return request


def test_a_server_offering_only_windows_sign_in_is_asked_again_with_ntlm(
    settings, mocked_http, monkeypatch
):
    module = types.ModuleType("requests_ntlm")
    module.HttpNtlmAuth = FakeNtlmAuth
    monkeypatch.setitem(sys.modules, "requests_ntlm", module)
    monkeypatch.setattr(project_data_module, "PAGE_SIZE", 100)
    FakeNtlmAuth.made = []
    mocked_http.add_callback(
        "GET",
        f"{SERVER}/_apis/projects",
        callback=lambda request: (
            (200, {}, '{"count": 0, "value": []}')
            if request.headers["Authorization"].startswith("NTLM ")
            else (401, NTLM_ONLY, "")
        ),
    )
    service = service_for(settings)
    service.receive("installed")
    auth = [c.request.headers["Authorization"] for c in mocked_http.calls]
    assert auth == [BASIC, "NTLM TlRMTVNTUAADAAAA"]
    assert FakeNtlmAuth.made == [USER]
    assert "signing in with NTLM" in str(service.logger.messages)


def test_a_401_that_offers_basic_stays_a_configuration_error(settings, mocked_http):
    projects(mocked_http, status=401, headers={"WWW-Authenticate": 'Basic realm="tfs"'})
    with pytest.raises(ConfigurationError, match="401"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 1


def test_a_feature_is_created_in_the_server_project(settings, mocked_http):
    mocked_http.post(
        f"{SERVER}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        match=[matchers.query_param_matcher({"api-version": "5.0"})],
        body=raw_fixture("azure_devops/feature_created.json"),
    )
    mocked_http.post("https://acme.aha.io/api/v1/features/ACME-9/integrations/4242/fields", json={})
    feature = {
        "reference_num": "ACME-9",
        "name": "Audit trail",
        "description": {"body": "<p>x</p>"},
    }
    service_for(settings, {"feature": feature}).receive("create_feature")
    assert request_json(mocked_http.calls[0])[0] == {
        "op": "add",
        "path": "/fields/System.Title",
        "value": "Audit trail",
    }
    assert mocked_http.calls[0].request.headers["Authorization"] == BASIC
