"""The exit code each kind of failure gets, whichever command met it."""

import socket

import pytest
import requests

from services.core.cli.exits import FAILED, REMOTE, USAGE, exit_code_for
from services.core.errors import ConfigurationError, InvalidUrlError, RemoteError


def _wrapped(error: BaseException, kind: type = ConfigurationError) -> BaseException:
    """``error`` as the HTTP client reports it: a service error that carries it."""
    return kind(f"Request failed: {error}", error)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_wrapped(requests.exceptions.ConnectionError("refused")), REMOTE),
        (_wrapped(requests.exceptions.SSLError("bad certificate")), REMOTE),
        (_wrapped(requests.exceptions.ConnectTimeout("slow")), REMOTE),
        (_wrapped(requests.exceptions.ReadTimeout("slow"), RemoteError), REMOTE),
        (_wrapped(socket.gaierror(-2, "Name or service not known")), REMOTE),
        (RemoteError("500 from the server"), REMOTE),
        # requests derives these from OSError, yet nothing went over the network.
        (_wrapped(requests.exceptions.InvalidHeader("a line break in a header")), USAGE),
        (_wrapped(requests.exceptions.InvalidURL("no host"), InvalidUrlError), USAGE),
        (_wrapped(requests.exceptions.MissingSchema("no scheme"), InvalidUrlError), USAGE),
        (ConfigurationError("api_key is not set"), USAGE),
        (ValueError("a bug"), FAILED),
    ],
)
def test_each_failure_gets_its_documented_code(error, code):
    assert exit_code_for(error) == code


def test_an_error_raised_while_handling_a_network_failure_is_still_remote():
    try:
        try:
            raise requests.exceptions.ConnectionError("reset")
        except requests.exceptions.ConnectionError:
            raise ConfigurationError("Could not connect") from None
    except ConfigurationError as error:
        assert exit_code_for(error) == REMOTE
