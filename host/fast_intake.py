"""The intake's usual request, a well-formed event for a known integration with its
secret, stored and answered without Flask's request machinery.

Anything else (a refusal of any kind, a form, a tracker's signature in place of the
secret, a body without a usable ``Content-Length``) goes on to Flask, which answers
it as always: its refusals stay the only ones. A request taken here gets the bytes
Flask's view would send, and is stored the same way (``host.admission``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_options_header

from host.admission import EVENT, FORM, INTERNAL, UNAVAILABLE, accept
from host.auth import TOKEN_HEADER, TOKEN_PARAMETER, token_matches
from host.config import HostConfig
from host.engine import Engine
from host.headers import kept_headers
from host.state import StoreUnavailable
from services.core import strict_json
from services.core.wsgi_fast_path import Answer, JsonFastPath, WsgiApp

_TOKEN_KEY = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")
_log = logging.getLogger("host.intake")


class IntakeFastPath(JsonFastPath):
    """WSGI middleware in front of the intake's Flask app."""

    def __init__(self, app: WsgiApp, config: HostConfig, engine: Engine):
        super().__init__(app, config.max_body)
        self.config, self.engine = config, engine

    def takes(self, environ: dict[str, Any]) -> bool:
        return environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
            ("/aha/", "/webhooks/")
        )

    def answer(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        path: str = environ["PATH_INFO"]
        kind, _, name = path[1:].partition("/")
        integration = self.config.integrations.get(name)
        if integration is None or "/" in name or not path.isascii():
            return None
        if not token_matches(integration, environ.get(_TOKEN_KEY) or _query_token(environ)):
            return None
        if kind == "aha":
            payload = _json_object(body)
            event = payload.get("event") if payload is not None else None
            if not isinstance(event, str) or not EVENT.fullmatch(event):
                return None
        else:
            if parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower() == FORM:
                return None
            payload = _json_object(body) if body.strip() else {}
            event = "webhook"
        if payload is None:
            return None
        headers = kept_headers(integration.service_class, environ)
        try:
            return "202 ACCEPTED", accept(self.engine, integration, event, payload, headers)
        except StoreUnavailable as error:
            _log.error("%s", error)
            return "503 SERVICE UNAVAILABLE", UNAVAILABLE
        except Exception:
            _log.exception("intake failed")
            return "500 INTERNAL SERVER ERROR", INTERNAL


def _query_token(environ: dict[str, Any]) -> str | None:
    """The ``token`` parameter as Flask's ``request.args`` reads it; None for a query
    that is not ASCII, which Flask decodes its own way."""
    query: str = environ.get("QUERY_STRING", "")
    if not query or not query.isascii():
        return None
    for key, value in parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"):
        if key == TOKEN_PARAMETER:
            return value
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = strict_json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
