import pytest
import requests

from services.core.errors import ConfigurationError, RemoteError
from services.core.errors_by_status import TooLarge, raise_for_status


class Gone(RemoteError):
    pass


def answer(status, body="", headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update(headers or {})
    return response


def check(response, **options):
    raise_for_status(response, service="Acme", method="put", path="/things/1", **options)


def test_a_success_passes():
    check(answer(204))


def test_401_and_a_lockout_are_configuration_errors():
    with pytest.raises(ConfigurationError, match=r"Acme rejected the credentials \(401\)"):
        check(answer(401))
    locked = answer(403, headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE"})
    with pytest.raises(ConfigurationError, match="CAPTCHA_CHALLENGE"):
        check(locked)


def test_another_403_names_the_permission():
    with pytest.raises(RemoteError, match="needs the Edit issues permission"):
        check(answer(403, "no"), permission="Edit issues")


def test_400_is_described_by_the_service():
    with pytest.raises(RemoteError, match="Acme did not accept PUT /things/1: name: too long"):
        check(answer(400, "{}"), describe=lambda response: "name: too long")


@pytest.mark.parametrize("status", [404, 410])
def test_gone_statuses_raise_the_gone_class(status):
    with pytest.raises(Gone):
        check(answer(status), gone=Gone)


def test_other_failures_quote_a_short_body():
    with pytest.raises(RemoteError, match="PUT /things/1 answered HTTP 502") as error:
        check(answer(502, "x" * 2000))
    assert len(str(error.value)) < 600


def by_code(response):
    """A classifier reading ``{"code": N}`` bodies, as body-coded trackers answer."""
    code = response.json().get("code") if response.text else None
    return {
        1: "credentials",
        2: "permission",
        3: "gone",
        4: "too_large",
        5: "failed",
    }.get(code)


def test_a_classifier_verdict_wins_over_the_status():
    with pytest.raises(ConfigurationError, match=r"rejected the credentials \(200\).*code"):
        check(answer(200, '{"code": 1}'), classify=by_code)
    with pytest.raises(RemoteError, match=r"refused PUT /things/1 \(400\): the account needs"):
        check(answer(400, '{"code": 2}'), classify=by_code, permission="edit")
    with pytest.raises(Gone):
        check(answer(400, '{"code": 3}'), classify=by_code, gone=Gone)
    with pytest.raises(TooLarge, match="as too large"):
        check(answer(400, '{"code": 4}'), classify=by_code)
    with pytest.raises(RemoteError, match="answered HTTP 200") as error:
        check(answer(200, '{"code": 5}'), classify=by_code, gone=Gone)
    assert not isinstance(error.value, Gone)


def test_without_a_verdict_the_status_decides():
    check(answer(200, '{"code": 0}'), classify=by_code)
    with pytest.raises(Gone):
        check(answer(404, '{"code": 0}'), classify=by_code, gone=Gone)
    with pytest.raises(ConfigurationError, match=r"credentials \(401\) for PUT /things/1$"):
        check(answer(401, '{"code": 0}'), classify=by_code)
