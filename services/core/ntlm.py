"""Windows sign-in (NTLM) for servers that offer nothing else.

Some on-premise servers (Azure DevOps Server behind IIS) answer 401 offering only
NTLM or Negotiate. The optional extra ``ntlm`` (requests-ntlm) signs in to them; it is
imported only when such a server is met, so that nobody else pays for it. Without it
the user is told to use a personal access token or to install the extra.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from services.core.errors import ConfigurationError

if TYPE_CHECKING:
    import requests

WINDOWS_SCHEMES = frozenset({"ntlm", "negotiate"})
# A scheme opens the header or follows a comma; a name followed by "=" is a parameter.
_SCHEME = re.compile(r"(?:^|,)\s*([A-Za-z][\w.-]*)(?![\w.-]*\s*=)")


def offered_schemes(response: requests.Response) -> set[str]:
    """The authentication schemes a 401's ``WWW-Authenticate`` headers offer, lower-cased."""
    header = response.headers.get("WWW-Authenticate", "")
    return {scheme.lower() for scheme in _SCHEME.findall(header)}


def offers_only_windows_sign_in(response: requests.Response) -> bool:
    """A 401 offering NTLM or Negotiate and not Basic: a password sent as Basic never works."""
    schemes = offered_schemes(response)
    windows = bool(schemes & WINDOWS_SCHEMES)
    return response.status_code == 401 and windows and "basic" not in schemes


def ntlm_auth(username: str, secret: str, *, service: str, setting: str) -> Any:
    """A requests auth object signing in with NTLM; a ConfigurationError naming ``setting``
    when the ``ntlm`` extra is not installed."""
    try:
        module = importlib.import_module("requests_ntlm")
    except ImportError:
        raise ConfigurationError(
            f"{service} accepts only Windows (NTLM) sign-in, which needs the optional 'ntlm' "
            "extra (pip install 'aha-services[ntlm]'); or create a personal access token "
            f"and enter it in {setting}"
        ) from None
    return module.HttpNtlmAuth(username, secret)
