"""``AHA_API_URL`` is the full base URL of the Aha! API, with or without ``/api/v1``."""

import pytest

from services.core.aha_api import AhaApi, api_base_url
from services.core.http import HttpClient
from services.core.logger import EventLogger


@pytest.mark.parametrize(
    "value",
    [
        "https://example.aha.io/api/v1",
        "https://example.aha.io/api/v1/",
        "https://example.aha.io",
        "https://example.aha.io/",
    ],
)
def test_both_spellings_reach_the_same_endpoints(monkeypatch, mocked_http, value):
    monkeypatch.setenv("AHA_API_URL", value)
    assert api_base_url("ignored") == "https://example.aha.io/"
    mocked_http.get("https://example.aha.io/api/v1/features/F-1", json={"feature": {"id": "1"}})
    api = AhaApi(HttpClient(EventLogger()), token="aha-api-url-token")
    assert api.feature("F-1").feature.id == "1"
    call = mocked_http.calls[0]
    assert (call.request.method, call.request.url) == (
        "GET",
        "https://example.aha.io/api/v1/features/F-1",
    )
    assert call.request.headers["Authorization"] == "Bearer aha-api-url-token"


def test_a_path_before_the_api_is_kept(monkeypatch):
    monkeypatch.setenv("AHA_API_URL", "https://onprem.example.com/aha/api/v1")
    assert api_base_url(None) == "https://onprem.example.com/aha/"
