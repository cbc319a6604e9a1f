"""Access tokens for HaloITSM's API, by the OAuth2 client-credentials or password grant.

oauthlib's application clients (the engine of requests-oauthlib) write the token
request and read Halo's answer, expiry included. The request itself is sent by the
caller's guarded ``HttpClient``, so the address guard, the https-for-credentials
rule (plain http only to hosts that ``AHA_SERVICES_ALLOWED_HOSTS`` names), the
timeouts and the redacted logging apply to it as to every other request.
requests-oauthlib's ``OAuth2Session`` is not used to send it: it refuses plain http
to every host, and its only way round is a process-wide switch, while a local fake
on an allowed host must work without one.

Tokens are kept in this process, keyed by a digest of the credentials, until shortly
before they expire. They are never put in ``meta_data``: that goes back to Aha! in
every answer.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from services.core.errors import AhaServiceError, ConfigurationError, RemoteError

if TYPE_CHECKING:
    import requests

    from services.core.http import HttpClient

CLIENT_CREDENTIALS = "client_credentials"
PASSWORD = "password"
AUTH_TYPES = (CLIENT_CREDENTIALS, PASSWORD)
DEFAULT_SCOPES = "all"
# A token this close to its expiry is not handed out again.
EXPIRY_MARGIN = 60.0
_CACHE_SIZE = 256
_TOKEN_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}


def normalize_base_uri(value: str, setting: str) -> str:
    """The HaloITSM address without a trailing slash.

    The "Resource Server" (``.../api``) and "Authorisation Server" (``.../auth``)
    addresses that Halo's API page shows are accepted too and cut back to the site.
    """
    text = str(value or "").strip().rstrip("/")
    try:
        parts = urlsplit(text)
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not (parts.query or parts.fragment or parts.username or parts.password)
        )
    except ValueError:
        valid = False
    if not valid:
        raise ConfigurationError(
            f"{setting} must be the address of your HaloITSM, "
            "such as https://yourcompany.haloitsm.com"
        )
    for suffix in ("/api", "/auth"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    return text


@dataclass(frozen=True)
class HaloCredentials:
    """Where HaloITSM is and how to log in to it; secrets stay out of ``repr``."""

    base_uri: str
    client_id: str
    auth_type: str = CLIENT_CREDENTIALS
    client_secret: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    scopes: str = DEFAULT_SCOPES
    tenant: str = ""

    @property
    def token_url(self) -> str:
        query = f"?{urlencode({'tenant': self.tenant})}" if self.tenant else ""
        return f"{self.base_uri}/auth/token{query}"

    @property
    def api_url(self) -> str:
        return f"{self.base_uri}/api"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret in (self.client_secret, self.password) if secret)

    def cache_key(self) -> str:
        """A digest of everything that decides the token: another secret, another key."""
        parts = (
            self.token_url,
            self.auth_type,
            self.client_id,
            self.client_secret,
            self.username,
            self.password,
            self.scopes,
        )
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class _TokenCache:
    """Access tokens by credential digest, least recently used dropped first."""

    def __init__(self, size: int):
        self._size = size
        self._tokens: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            token, expires_at = entry
            if expires_at is not None and expires_at - EXPIRY_MARGIN <= time.time():
                del self._tokens[key]
                return None
            self._tokens.move_to_end(key)
            return token

    def put(self, key: str, token: str, expires_at: float | None) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)
            self._tokens.move_to_end(key)
            while len(self._tokens) > self._size:
                self._tokens.popitem(last=False)

    def discard(self, key: str, token: str) -> None:
        """Forget ``token``, unless another request already replaced it."""
        with self._lock:
            entry = self._tokens.get(key)
            if entry is not None and entry[0] == token:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


_TOKENS = _TokenCache(_CACHE_SIZE)


def forget_tokens() -> None:
    """Drop every kept token, so that the next request logs in again."""
    _TOKENS.clear()


class HaloAuth:
    """Hands out a valid access token for one set of credentials."""

    def __init__(self, credentials: HaloCredentials, http: HttpClient):
        self.credentials = credentials
        self.http = http
        self._key = credentials.cache_key()
        for secret in credentials.secrets:
            http.logger.redactor.add(secret)

    def access_token(self) -> str:
        """The kept token while it is valid, otherwise a new one."""
        return _TOKENS.get(self._key) or self.fetch()

    def renew(self, refused: str) -> str:
        """A new token after HaloITSM refused ``refused``."""
        _TOKENS.discard(self._key, refused)
        return self.fetch()

    def fetch(self) -> str:
        """Log in at ``<base_uri>/auth/token`` and keep the token it gives."""
        from oauthlib.oauth2 import (
            BackendApplicationClient,
            LegacyApplicationClient,
            MissingTokenError,
            OAuth2Error,
        )

        credentials = self.credentials
        options: dict[str, Any] = {"scope": credentials.scopes, "include_client_id": True}
        if credentials.client_secret:
            options["client_secret"] = credentials.client_secret
        if credentials.auth_type == PASSWORD:
            client: Any = LegacyApplicationClient(credentials.client_id)
            options.update(username=credentials.username, password=credentials.password)
        else:
            client = BackendApplicationClient(credentials.client_id)
        self.http.logger.debug(
            f"Requesting a HaloITSM access token ({credentials.auth_type} grant)"
        )
        response = self.http.post(
            credentials.token_url,
            data=client.prepare_request_body(**options),
            headers=_TOKEN_HEADERS,
            sends_credentials=True,
        )
        if response.status_code >= 400:
            code, description = _error_of(response)
            raise self._refusal(response.status_code, code, description)
        try:
            if not isinstance(response.json(), dict):  # oauthlib reads only an object
                raise ValueError("not a JSON object")
            token = client.parse_request_body_response(response.text)
        except (MissingTokenError, ValueError) as error:
            raise RemoteError("HaloITSM's token answer carried no access token") from error
        except OAuth2Error as error:
            code, description = error.error or "", error.description
            raise self._refusal(response.status_code, code, description) from error
        access_token = str(token["access_token"])
        self.http.logger.redactor.add(access_token)
        expires_at = token.get("expires_at")
        _TOKENS.put(self._key, access_token, float(expires_at) if expires_at else None)
        lifetime = f"for {token['expires_in']} s" if token.get("expires_in") else "until refused"
        self.http.logger.debug(f"Received a HaloITSM access token, kept {lifetime}")
        return access_token

    def _refusal(self, status: int, code: str, description: str) -> AhaServiceError:
        """The error for a refused token request, in words that say what to fix."""
        credentials = self.credentials
        redact = self.http.logger.redactor
        said = f" HaloITSM says: {redact(description)}" if description else ""
        code_text = f", {redact(code)}" if code else ""
        if code == "invalid_client":
            return ConfigurationError(
                "HaloITSM refused the client ID or client secret (invalid_client): "
                f"check the Client ID and Client secret of the API application.{said}"
            )
        if code == "invalid_grant":
            return ConfigurationError(
                "HaloITSM refused the username or password (invalid_grant): "
                f"check the Username and Password.{said}"
            )
        if code == "invalid_scope":
            return ConfigurationError(
                f"HaloITSM refused the scopes {credentials.scopes!r} (invalid_scope).{said}"
            )
        if code in ("unauthorized_client", "unsupported_grant_type"):
            return ConfigurationError(
                f"The HaloITSM API application does not allow the {credentials.auth_type} "
                f"grant ({code}): choose the authentication method it uses.{said}"
            )
        if status == 404:
            return ConfigurationError(
                f"HaloITSM has no token endpoint at {credentials.token_url} (HTTP 404): "
                "check the HaloITSM URL and the tenant."
            )
        if status in (400, 401, 403) or code:
            return ConfigurationError(
                f"HaloITSM refused to log in (HTTP {status}{code_text}).{said}"
            )
        return RemoteError(f"HaloITSM's token endpoint answered HTTP {status}.{said}")


def _error_of(response: requests.Response) -> tuple[str, str]:
    """The OAuth2 ``error`` and ``error_description`` of an error answer, when it has them."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, Mapping):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")
