"""Specs run with the environment they set: what a developer's shell exports stays out."""

import pytest

from spec.conftest import project_variable

EXPORTED = {
    "HALO_BASE_URI": "https://halo.example.com",
    "AHA_API_URL": "https://aha.example.com/api/v1",
    "AHA_SERVICES_ALLOWED_HOSTS": "127.0.0.1",
    "PORT": "9999",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "ALL_PROXY": "socks5://127.0.0.1:9",
    "no_proxy": "*",
    "REQUESTS_CA_BUNDLE": "/no/such/bundle.pem",
}


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_a_variable_the_project_or_requests_reads_is_the_specs_own(name):
    assert project_variable(name)


def test_an_unrelated_variable_is_left_alone():
    assert not project_variable("PATH")
    assert not project_variable("LANG")
