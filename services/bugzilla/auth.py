"""How this Bugzilla takes the API key, found once by asking it, and kept in ``meta_data``.

Bugzilla has taken the key in three ways over its versions: the ``X-BUGZILLA-API-KEY``
header, an ``Authorization: Bearer`` header, and the ``Bugzilla_api_key`` parameter.
A server ignores a header it does not know and answers as anonymous, so a read that
succeeds proves nothing: each form is tried on ``GET /whoami``, which answers only a
logged-in user. A server without ``whoami`` (before 5.1) gets the parameter, the one
form every version checks, and so refuses when the key is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from services.bugzilla.errors import NOT_LOGGED_IN, UNKNOWN_METHOD, error_code
from services.core import ConfigurationError

if TYPE_CHECKING:
    from services.bugzilla.service import Bugzilla

HEADER, BEARER, PARAMETER = "header", "bearer", "param"
FORMS = (HEADER, BEARER, PARAMETER)
# Where the REST API lives: ``/rest`` with URL rewriting, ``/rest.cgi`` without.
REST_PATHS = ("/rest", "/rest.cgi")
KEY_PARAMETER = "Bugzilla_api_key"
_ANY_STATUS = range(100, 600)


def signed(form: str, key: str, method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Request options carrying ``key`` in ``form``: a header, or the parameter, in the
    query of a read and in the JSON body of a write."""
    options = dict(options)
    if form == HEADER:
        options["headers"] = {**options.get("headers", {}), "X-BUGZILLA-API-KEY": key}
    elif form == BEARER:
        options["headers"] = {**options.get("headers", {}), "Authorization": f"Bearer {key}"}
    elif method.upper() == "GET":
        params = options.get("params") or []
        items = list(params.items()) if isinstance(params, Mapping) else list(params)
        options["params"] = [*items, (KEY_PARAMETER, key)]
    else:
        options["json"] = {**(options.get("json") or {}), KEY_PARAMETER: key}
    return options


def probe(service: Bugzilla) -> dict[str, str]:
    """The REST path, the version and the credential form of this Bugzilla."""
    rest_path, version = _find_rest(service)
    return {
        "bugzilla_rest_path": rest_path,
        "bugzilla_version": version,
        "bugzilla_auth": _find_form(service, rest_path),
    }


def _find_rest(service: Bugzilla) -> tuple[str, str]:
    for rest_path in REST_PATHS:
        path = f"{rest_path}/version"
        response = service.tracker_request("GET", path, accept=(404,))
        if response.status_code == 404:
            continue
        try:
            version = response.json().get("version")
        except (ValueError, AttributeError):
            version = None
        if version:
            return rest_path, str(version)
    raise ConfigurationError(
        "No Bugzilla REST API answers at the Bugzilla URL (server_url): neither /rest/version "
        "nor /rest.cgi/version; check the address (with its path, such as /bugzilla)"
    )


def _find_form(service: Bugzilla, rest_path: str) -> str:
    key = service.api_key()
    path = f"{rest_path}/whoami"
    for form in (HEADER, BEARER):
        response = service.tracker_request(
            "GET", path, accept=_ANY_STATUS, **signed(form, key, "GET", {})
        )
        code = error_code(response)
        if response.status_code == 404 or code == UNKNOWN_METHOD:
            return PARAMETER  # no whoami: the parameter is the form every version checks
        if response.status_code == 200 and code is None:
            return form
        if code == NOT_LOGGED_IN or (response.status_code == 401 and code is None):
            continue  # the header was ignored: the request was anonymous
        service.check_tracker_response(response, "GET", path)
    # Bugzilla refuses a parameter key it cannot take, so this raises unless it is good.
    service.tracker_request("GET", path, **signed(PARAMETER, key, "GET", {}))
    return PARAMETER
