"""Shared spec helpers: fixtures from spec/fixtures, and nothing reaches the network.

Every outbound HTTP call goes through ``responses``; a call that no mock answers
fails the test that made it, even when the code under test swallowed the error.
DNS is a fake table, so the address guard is exercised without a resolver; a wait
for a rate limit is recorded in ``slept``, never slept.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import responses as responses_lib

from services.core import address_guard, rate_limits

FIXTURES = Path(__file__).parent / "fixtures"

# A public address that no test ever connects to: responses answers first.
PUBLIC_ADDRESS = "93.184.215.14"

AHA_USER_DATA = {
    "aha_account_domain": "acme",
    "aha_api_url_base": "https://aha.io/",
    "aha_api_token": "aha-api-token-5e1f0c",
    "integration_id": 4242,
}


def fixture(name: str) -> Path:
    return FIXTURES / name


def raw_fixture(name: str) -> str:
    return fixture(name).read_text()


def json_fixture(name: str) -> Any:
    return json.loads(raw_fixture(name))


# Variables the project reads by name: the proxy's and the host's settings, the command
# line's accounts, gunicorn's sizing.
PROJECT_VARIABLES = frozenset({"PORT", "HOST", "WEB_CONCURRENCY", "PROXY_THREADS", "CONSOLE_PORT"})
# Prefixes of the others: AHA_API_URL, AHA_SERVICES_*, HALO_BASE_URI, ...
PROJECT_PREFIXES = ("AHA_", "HALO_")
# Names whose values are redacted as secrets wherever they appear.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|KEY", re.IGNORECASE)
# What requests reads from the environment for every outbound request (in either case):
# an exported proxy would carry the specs' loopback servers' requests away.
REQUESTS_VARIABLES = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
)


def project_variable(name: str) -> bool:
    """Whether the project (or requests for it) reads ``name``, so that a spec must set it
    itself."""
    return (
        name in PROJECT_VARIABLES
        or name.upper() in REQUESTS_VARIABLES
        or name.upper().startswith(PROJECT_PREFIXES)
        or SECRET_NAME.search(name) is not None
    )


def without_coverage() -> dict[str, str]:
    """This environment without coverage's settings: a subprocess that checks which
    modules it loaded must not load coverage's (SQLite among them)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COVERAGE_", "COV_CORE_"))
    }


@pytest.fixture(scope="session")
def session_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the specs' event log lives unless a spec sets its own: never the checkout's var/."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, session_data: Path) -> None:
    """Specs run with the environment they set, whatever the developer's shell exports."""
    for name in [name for name in os.environ if project_variable(name)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AHA_SERVICES_DATA", str(session_data))


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Host name -> addresses; names not listed resolve to one public address."""
    table: dict[str, list[str]] = {
        "localhost": ["127.0.0.1", "::1"],
        "intranet.example.com": ["10.1.2.3"],
        "rebound.example.com": ["127.0.0.1"],
        "nowhere.invalid": [],
    }

    def resolve(host: str, port: int | None) -> list:
        addresses = table.get(host.lower(), [PUBLIC_ADDRESS])
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in addresses]

    monkeypatch.setattr(address_guard, "resolve", resolve)
    return table


@pytest.fixture(autouse=True)
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds each rate-limit wait asked for, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(rate_limits, "sleep", waits.append)
    return waits


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that tries to leave the machine fails the test."""
    original = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else ""
        if (
            sock.family in (socket.AF_INET, socket.AF_INET6)
            and not ipaddress.ip_address(host.split("%")[0]).is_loopback
        ):
            pytest.fail(f"a test tried to reach the network: {address!r}")
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def mocked_http():
    """Every spec runs inside responses; unmatched calls fail the test."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        unmatched = [
            f"{call.request.method} {call.request.url}"
            for call in mock.calls
            if isinstance(call.response, Exception)
            and "Connection refused by Responses" in str(call.response)
        ]
        if unmatched:
            pytest.fail("unmocked HTTP call(s): " + ", ".join(unmatched))


@pytest.fixture
def user_data() -> dict[str, Any]:
    return dict(AHA_USER_DATA)


def request_json(call: Any) -> Any:
    """The JSON body of a recorded call."""
    return json.loads(call.request.body)
