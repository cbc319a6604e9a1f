"""What a third party's webhook carried, however Aha! or the sender wrapped it.

A tracker posts its event as the JSON body, or (form-encoded hooks) as JSON text
under ``payload``; services read it through one function so that every webhook
takes the same forms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def carried_body(payload: Mapping[str, Any], key: str = "payload") -> Any:
    """The ``key`` member (JSON text or an object) when there is one, else the payload
    itself; None when it is blank. A ValueError when the text is not JSON."""
    body: Any = payload.get(key)
    if body is None or body == {}:
        body = payload
    if isinstance(body, str):
        if not body.strip():
            return None
        body = json.loads(body)
    return body
