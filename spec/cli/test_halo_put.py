"""``aha-services halo put``, as the README lists it beside post and delete."""

import json
from urllib.parse import parse_qs

from click.testing import CliRunner

from services.core.cli import main
from services.halo_itsm.auth import forget_tokens
from spec.conftest import request_json

BASE = "https://acme.haloitsm.com"
ENVIRONMENT = {
    "HALO_BASE_URI": BASE,
    "HALO_CLIENT_ID": "aha-cli",
    "HALO_CLIENT_SECRET": "halo-put-secret-5d4c3b",
    "HALO_USERNAME": "",
    "HALO_TENANT": "",
}


def test_halo_put_sends_the_payload_as_given(mocked_http):
    forget_tokens()
    mocked_http.post(f"{BASE}/auth/token", json={"access_token": "halo-put-token-1a2b3c"})
    mocked_http.put(f"{BASE}/api/Assets/88", json={"id": 88, "inventory_number": "LAP-0043"})
    result = CliRunner().invoke(
        main,
        [
            "halo",
            "put",
            "/Assets/{id}",
            "--path",
            "id=88",
            "--payload",
            '{"inventory_number": "LAP-0043"}',
        ],
        env=ENVIRONMENT,
    )
    forget_tokens()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"id": 88, "inventory_number": "LAP-0043"}
    token_call, put_call = mocked_http.calls
    assert token_call.request.method == "POST"
    assert parse_qs(token_call.request.body)["client_secret"] == ["halo-put-secret-5d4c3b"]
    assert (put_call.request.method, put_call.request.url) == ("PUT", f"{BASE}/api/Assets/88")
    assert request_json(put_call) == {"inventory_number": "LAP-0043"}
    assert put_call.request.headers["Authorization"] == "Bearer halo-put-token-1a2b3c"
