"""``aha-services aha login``/``logout`` against a fake Aha! on loopback, with a fake browser.

The fake is a real http.server on a free port, allowed by AHA_SERVICES_ALLOWED_HOSTS
as a local Aha! would be; responses lets the calls to it through.
"""

import json
import os
import stat
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from click.testing import CliRunner

from services.core.cli import aha_login, token_store
from services.core.cli import app as cli
from services.core.errors import RemoteError

CLIENT_ID = "aha-cli-client-0042"
CLIENT_SECRET = "aha-cli-client-secret-9f8e7d"
CODE = "authorization-code-5a6b7c"
FIRST = {"access_token": "access-token-first-1111", "refresh_token": "refresh-token-2222"}
SECOND = {"access_token": "access-token-second-3333"}


class FakeAha(ThreadingHTTPServer):
    """Aha!'s /oauth/authorize and /oauth/token, and /api/v1/me behind a Bearer token."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeAhaHandler)
        self.requests = []
        self.redirect_state = None  # another state than the one sent, when set
        self.authorize_error = None
        self.token_error = None
        self.valid_tokens = {FIRST["access_token"]}
        self.refreshes = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeAhaHandler(BaseHTTPRequestHandler):
    server: FakeAha

    def log_message(self, format, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.server.requests.append(("GET", parts.path, query, dict(self.headers)))
        if parts.path == "/oauth/authorize":
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                self._json(400, {"error": "invalid_request"})
                return
            if self.server.authorize_error:
                answer = {"error": self.server.authorize_error, "state": query["state"]}
            else:
                answer = {"code": CODE, "state": self.server.redirect_state or query["state"]}
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{urlencode(answer)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/api/v1/me":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token in self.server.valid_tokens:
                self._json(200, {"user": {"id": "1", "token": token[:12]}})
            else:
                self._json(401, {"error": "Unauthorized"})
        else:
            self._json(404, {"error": "Not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        self.server.requests.append(("POST", self.path, form, dict(self.headers)))
        if self.path != "/oauth/token":
            self._json(404, {"error": "Not found"})
            return
        client = (form.get("client_id"), form.get("client_secret"))
        client_ok = client == (CLIENT_ID, CLIENT_SECRET)
        if self.server.token_error or not client_ok:
            self._json(401, {"error": self.server.token_error or "invalid_client"})
        elif form.get("grant_type") == "authorization_code" and form.get("code") == CODE:
            self._json(200, {**FIRST, "token_type": "Bearer", "expires_in": 7200})
        elif form.get("grant_type") == "refresh_token":
            self.server.refreshes.append(form.get("refresh_token"))
            self.server.valid_tokens.add(SECOND["access_token"])
            self._json(200, {**SECOND, "token_type": "Bearer", "expires_in": 7200})
        else:
            self._json(400, {"error": "invalid_grant", "error_description": "The code is wrong"})


@pytest.fixture
def fake_aha(monkeypatch, mocked_http):
    server = FakeAha()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    mocked_http.add_passthru(server.url)
    monkeypatch.setenv("AHA_API_URL", f"{server.url}/api/v1")
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("AHA_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AHA_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def token_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "aha-services" / "token.json"
    monkeypatch.setattr(token_store, "default_token_path", lambda: path)
    return path


class Visits(list):
    """The addresses a fake browser opened and the (status, page) it was shown."""

    def __init__(self):
        super().__init__()
        self.done = threading.Event()

    def last_page(self):
        assert self.done.wait(10), "the fake browser did not finish"
        return self[-1]


@pytest.fixture
def browser(monkeypatch):
    """Follows the authorize address as a browser would, Aha!'s redirect included."""
    visits = Visits()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def open_(url):
        visits.append(url)
        callback = urlsplit(url)
        redirect = parse_qs(callback.query)["redirect_uri"][0]
        stray = redirect.replace("/callback", "/favicon.ico")
        with pytest.raises(urllib.error.HTTPError):
            opener.open(stray, timeout=10)
        try:
            with opener.open(url, timeout=10) as answer:
                visits.append((answer.status, answer.read().decode()))
        except urllib.error.HTTPError as error:
            visits.append((error.code, error.read().decode()))
        visits.done.set()
        return True

    monkeypatch.setattr("webbrowser.open", open_)
    return visits


def run(*args, **kwargs):
    return CliRunner().invoke(cli.main, list(args), **kwargs)


def stored(token_file):
    return json.loads(token_file.read_text())["accounts"]


def test_login_stores_the_token_readable_by_its_owner_only(fake_aha, token_file, browser):
    result = run("aha", "login")
    assert result.exit_code == 0, result.output
    account = fake_aha.url
    assert f"Logged in to {account}" in result.stdout
    assert stored(token_file)[account]["access_token"] == FIRST["access_token"]
    assert stored(token_file)[account]["refresh_token"] == FIRST["refresh_token"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    status, page = browser.last_page()
    assert status == 200 and "Signed in to Aha!" in page
    for secret in (CLIENT_SECRET, CODE, FIRST["access_token"], FIRST["refresh_token"]):
        assert secret not in result.output
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_login_follows_the_authorization_code_flow(fake_aha, token_file, browser):
    result = run("aha", "login")
    assert result.exit_code == 0, result.output
    (_, authorize_path, authorize, _), (method, token_path, form, headers) = [
        r for r in fake_aha.requests if r[1].startswith("/oauth/")
    ]
    assert authorize_path == "/oauth/authorize"
    redirect = urlsplit(authorize["redirect_uri"])
    assert (redirect.scheme, redirect.hostname, redirect.path) == ("http", "127.0.0.1", "/callback")
    assert redirect.port and len(authorize["state"]) >= 20
    assert browser[0].startswith(f"{fake_aha.url}/oauth/authorize?")
    assert browser[0] in result.stderr
    assert (method, token_path) == ("POST", "/oauth/token")
    assert form == {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": authorize["redirect_uri"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_stored_token_is_used_when_aha_api_token_is_not_set(fake_aha, token_file, browser):
    assert run("aha", "login").exit_code == 0
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"user": {"id": "1", "token": "access-token"}}
    method, path, _, headers = fake_aha.requests[-1]
    assert (method, path) == ("GET", "/api/v1/me")
    assert headers["Authorization"] == f"Bearer {FIRST['access_token']}"


def test_aha_api_token_wins_over_the_stored_token(fake_aha, token_file, monkeypatch):
    token_store.TokenStore(token_file).put(fake_aha.url, FIRST)
    monkeypatch.setenv("AHA_API_TOKEN", "api-key-from-environment")
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 3
    assert fake_aha.requests[-1][3]["Authorization"] == "Bearer api-key-from-environment"


def test_an_expired_token_is_refreshed_and_stored(fake_aha, token_file):
    expired = {**FIRST, "expires_at": time.time() - 10}
    token_store.TokenStore(token_file).put(fake_aha.url, expired)
    fake_aha.valid_tokens = set()
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 0, result.output
    assert fake_aha.refreshes == [FIRST["refresh_token"]]
    refresh = next(r for r in fake_aha.requests if r[1] == "/oauth/token")
    assert refresh[2] == {
        "grant_type": "refresh_token",
        "refresh_token": FIRST["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert fake_aha.requests[-1][3]["Authorization"] == f"Bearer {SECOND['access_token']}"
    kept = stored(token_file)[fake_aha.url]
    assert kept["access_token"] == SECOND["access_token"]
    assert kept["refresh_token"] == FIRST["refresh_token"]
    assert kept["expires_at"] > time.time() + 3600
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_an_expired_token_without_a_refresh_token_asks_for_a_login(fake_aha, token_file):
    token = {"access_token": FIRST["access_token"], "expires_at": time.time() - 10}
    token_store.TokenStore(token_file).put(fake_aha.url, token)
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 2
    assert f"The stored token for {fake_aha.url} has expired" in result.stderr
    assert fake_aha.requests == []


def test_logout_forgets_the_token(fake_aha, token_file, browser):
    other = "https://other.aha.io"
    token_store.TokenStore(token_file).put(other, {"access_token": "other-account-token"})
    assert run("aha", "login").exit_code == 0
    result = run("aha", "logout")
    assert result.exit_code == 0
    assert f"Forgot the token for {fake_aha.url}" in result.stdout
    assert list(stored(token_file)) == [other]
    again = run("aha", "get", "/api/v1/me")
    assert again.exit_code == 2
    assert f"no token is stored for {fake_aha.url}: run aha-services aha login" in again.stderr
    assert "No token was stored" in run("aha", "logout").stdout


def test_tokens_are_kept_by_account(token_file, monkeypatch, mocked_http):
    token_store.TokenStore(token_file).put("https://other.aha.io", {"access_token": "x" * 20})
    monkeypatch.setenv("AHA_DOMAIN", "acme")
    result = run("aha", "get", "/api/v1/me")
    assert result.exit_code == 2
    assert "no token is stored for https://acme.aha.io" in result.stderr
    assert len(mocked_http.calls) == 0


def test_a_redirect_with_another_state_is_refused(fake_aha, token_file, browser):
    fake_aha.redirect_state = "forged-state"
    result = run("aha", "login")
    assert result.exit_code == 3
    assert "another state" in result.stderr
    assert not any(r[1] == "/oauth/token" for r in fake_aha.requests)
    assert not token_file.exists()


def test_a_refused_authorization_is_reported(fake_aha, token_file, browser):
    fake_aha.authorize_error = "access_denied"
    result = run("aha", "login")
    assert result.exit_code == 3
    assert "Aha! did not authorize the application (access_denied)" in result.stderr
    assert browser.last_page()[0] == 400
    assert not token_file.exists()


def test_a_refused_token_request_is_reported(fake_aha, token_file, browser):
    fake_aha.token_error = "invalid_grant"
    result = run("aha", "login")
    assert result.exit_code == 3
    assert "Aha! refused the token request (HTTP 401, invalid_grant)" in result.stderr
    assert CLIENT_SECRET not in result.output
    assert not token_file.exists()


def test_login_over_plain_http_to_a_host_not_allowed_is_refused(
    fake_aha, token_file, browser, monkeypatch
):
    monkeypatch.setenv("AHA_API_URL", "http://aha.example.com")
    result = run("aha", "login")
    assert result.exit_code == 2
    assert "Refusing to send credentials to aha.example.com over plain http" in result.stderr
    assert browser == [] and fake_aha.requests == []


@pytest.mark.parametrize("missing", ["AHA_CLIENT_ID", "AHA_CLIENT_SECRET"])
def test_login_names_a_missing_client_setting(fake_aha, token_file, monkeypatch, missing):
    monkeypatch.delenv(missing)
    result = run("aha", "login")
    assert result.exit_code == 2
    assert f"Error: {missing} is not set" in result.stderr


def test_login_gives_up_when_no_browser_answers(fake_aha, token_file, monkeypatch):
    clock = iter([0.0, 1000.0])
    monkeypatch.setattr(aha_login.time, "monotonic", lambda: next(clock))
    result = run("aha", "login", "--no-browser", "--wait", "5")
    assert result.exit_code == 3
    assert "No sign-in arrived from the browser within 5 s" in result.stderr
    assert f"{fake_aha.url}/oauth/authorize?" in result.stderr


def test_the_account_is_the_origin_of_aha_api_url_or_the_domain(monkeypatch):
    monkeypatch.setenv("AHA_API_URL", "https://aha.example.com:8443/api/v1")
    assert aha_login.account_url() == "https://aha.example.com:8443"
    monkeypatch.delenv("AHA_API_URL")
    monkeypatch.setenv("AHA_DOMAIN", "Acme")
    assert aha_login.account_url() == "https://acme.aha.io"
    app = aha_login.OAuthApp("https://acme.aha.io", CLIENT_ID, CLIENT_SECRET)
    assert app.authorize_url == "https://acme.aha.io/oauth/authorize"
    assert app.token_url == "https://acme.aha.io/oauth/token"
    assert CLIENT_SECRET not in repr(app)


@pytest.mark.parametrize("answer", [[], ["token"], "token"])
def test_a_token_answer_that_is_no_object_is_a_remote_error(mocked_http, answer):
    app = aha_login.OAuthApp("https://acme.aha.io", "client-id", "client-secret-123")
    mocked_http.post(app.token_url, json=answer)
    with pytest.raises(RemoteError, match="answered HTTP 200, not a token"):
        aha_login.request_token(app, "grant_type=authorization_code&code=c")
