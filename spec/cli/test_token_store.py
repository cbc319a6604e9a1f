import json
import stat
import sys

import pytest

from services.core import ConfigurationError
from services.core.cli import token_store
from services.core.cli.token_store import TokenStore, is_expired

ACCOUNT = "https://acme.aha.io"


def test_tokens_are_kept_by_account_with_owner_only_access(tmp_path):
    path = tmp_path / "aha-services" / "token.json"
    store = TokenStore(path)
    assert store.get(ACCOUNT) is None
    store.put(ACCOUNT, {"access_token": "a" * 20, "token_type": "Bearer", "expires_in": 7200})
    store.put("https://other.aha.io", {"access_token": "b" * 20})
    assert store.get(ACCOUNT) == {"access_token": "a" * 20, "token_type": "Bearer"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(json.loads(path.read_text())["accounts"]) == [ACCOUNT, "https://other.aha.io"]
    assert [p.name for p in path.parent.iterdir()] == ["token.json"]


def test_forget_drops_one_account(tmp_path):
    store = TokenStore(tmp_path / "token.json")
    store.put(ACCOUNT, {"access_token": "a" * 20})
    store.put("https://other.aha.io", {"access_token": "b" * 20})
    assert store.forget(ACCOUNT) is True
    assert store.forget(ACCOUNT) is False
    assert store.get(ACCOUNT) is None
    assert store.get("https://other.aha.io") == {"access_token": "b" * 20}


def test_a_damaged_file_says_what_to_do(tmp_path):
    path = tmp_path / "token.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="delete it and log in again"):
        TokenStore(path).get(ACCOUNT)


@pytest.mark.parametrize(
    "token",
    [
        {"access_token": "a", "expires_at": "abc"},
        {"access_token": "a", "expires_at": True},
        {"access_token": "a", "expires_at": [1]},
        {"access_token": 7},
        {"access_token": "a", "refresh_token": {"x": 1}},
    ],
    ids=["text expiry", "boolean expiry", "list expiry", "number token", "object refresh"],
)
def test_a_token_of_the_wrong_shape_says_what_to_do(tmp_path, token):
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"accounts": {ACCOUNT: token}}))
    with pytest.raises(ConfigurationError, match="delete it and log in again"):
        TokenStore(path).get(ACCOUNT)


def test_a_non_finite_expiry_in_the_file_says_what_to_do(tmp_path):
    path = tmp_path / "token.json"
    text = json.dumps({"accounts": {ACCOUNT: {"access_token": "a", "expires_at": "NAN"}}})
    path.write_text(text.replace('"NAN"', "NaN"))
    with pytest.raises(ConfigurationError, match="delete it and log in again"):
        TokenStore(path).get(ACCOUNT)


def test_expiry_keeps_a_margin():
    assert not is_expired({"access_token": "x"})
    assert is_expired({"expires_at": 1000.0}, now=950.0)
    assert not is_expired({"expires_at": 1000.0}, now=900.0)


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CONFIG_HOME is the Linux convention")
def test_the_default_file_is_in_the_user_config_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert token_store.default_token_path() == tmp_path / "aha-services" / "token.json"
