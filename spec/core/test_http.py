import http.server
import ipaddress
import threading

import pytest
import requests
import responses

from services.core import address_guard
from services.core.errors import (
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    TimeLimitExceeded,
)
from services.core.http import USER_AGENT, HttpClient
from services.core.logger import EventLogger, Severity
from services.core.redaction import Redactor
from services.core.timing import run_with_time_limit


def client(**kwargs):
    return HttpClient(EventLogger(redactor=Redactor(["s3cr3t-value"])), **kwargs)


def test_sends_with_user_agent_timeouts_and_tls_verification(mocked_http):
    mocked_http.post("https://hooks.example.com/aha", json={"ok": True})
    response = client().post("https://hooks.example.com/aha", json={"a": 1})
    assert response.json() == {"ok": True}
    call = mocked_http.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == "https://hooks.example.com/aha"
    assert call.request.body == b'{"a": 1}'
    assert call.request.headers["User-Agent"] == USER_AGENT
    assert call.request.req_kwargs["timeout"] == (25.0, 310.0)
    # True, or the CA bundle that REQUESTS_CA_BUNDLE names: verification is on either way.
    assert call.request.req_kwargs["verify"] not in (False, None, "")


def test_verification_can_be_switched_off_per_client(mocked_http):
    mocked_http.get("https://selfsigned.example.com/", body="ok")
    client(verify=False).get("https://selfsigned.example.com/")
    assert mocked_http.calls[0].request.req_kwargs["verify"] is False


def test_private_addresses_are_refused_before_sending(mocked_http):
    with pytest.raises(InvalidUrlError):
        client().get("http://192.168.0.10/")
    assert len(mocked_http.calls) == 0


def test_a_redirect_to_a_private_address_is_refused(mocked_http):
    mocked_http.get(
        "https://hooks.example.com/start", status=302, headers={"Location": "http://10.0.0.5/admin"}
    )
    mocked_http.get("http://10.0.0.5/admin", body="secret admin page")
    with pytest.raises(InvalidUrlError, match="10.0.0.5"):
        client().get("https://hooks.example.com/start")
    assert [c.request.url for c in mocked_http.calls] == ["https://hooks.example.com/start"]


def test_a_redirect_to_a_name_resolving_to_loopback_is_refused(mocked_http):
    mocked_http.get(
        "https://hooks.example.com/start",
        status=307,
        headers={"Location": "http://rebound.example.com/"},
    )
    with pytest.raises(InvalidUrlError, match="rebound.example.com"):
        client().get("https://hooks.example.com/start")


def test_a_redirect_to_a_public_address_is_followed(mocked_http):
    mocked_http.get(
        "https://hooks.example.com/old",
        status=301,
        headers={"Location": "https://hooks.example.com/new"},
    )
    mocked_http.get("https://hooks.example.com/new", body="moved here")
    assert client().get("https://hooks.example.com/old").text == "moved here"


def test_credentials_are_refused_over_plain_http(mocked_http):
    with pytest.raises(InvalidUrlError, match="plain http"):
        client().get("http://api.example.com/", headers={"Authorization": "Bearer abcdef123456"})
    with pytest.raises(InvalidUrlError, match="plain http"):
        client().get("http://api.example.com/", auth=("user", "pass"))
    with pytest.raises(InvalidUrlError, match="plain http"):
        client().post("http://api.example.com/", json={"token": "x"}, sends_credentials=True)
    for name in ("PRIVATE-TOKEN", "X-Redmine-API-Key", "X-Api-Key", "Cookie"):
        with pytest.raises(InvalidUrlError, match="plain http"):
            client().get("http://api.example.com/", headers={name: "k-0123456789"})
    assert len(mocked_http.calls) == 0


def test_credentials_over_plain_http_to_an_allowed_host_are_sent(mocked_http, monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    mocked_http.get("http://127.0.0.1:9000/api", json={})
    client().get("http://127.0.0.1:9000/api", headers={"Authorization": "Bearer abcdef123456"})
    assert mocked_http.calls[0].request.headers["Authorization"] == "Bearer abcdef123456"


def test_credentials_over_https_are_sent(mocked_http):
    mocked_http.get("https://api.example.com/", json={})
    client().get("https://api.example.com/", auth=("user", "pass"))
    assert mocked_http.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_responses_are_logged_by_status_with_secrets_redacted(mocked_http):
    mocked_http.get("https://api.example.com/ok?token=abcdef", json={"echo": "s3cr3t-value"})
    mocked_http.get("https://api.example.com/missing", status=404, json={"error": "not found"})
    http = client()
    http.get("https://api.example.com/ok?token=abcdef")
    http.get("https://api.example.com/missing")
    messages = http.logger.messages
    ok = [m for m in messages if " 200 " in m["message"]]
    missing = [m for m in messages if " 404 " in m["message"]]
    assert ok and ok[0]["severity"] == Severity.DEBUG
    assert missing and missing[0]["severity"] == Severity.INFO
    assert "not found" in missing[0]["message"]
    text = " ".join(m["message"] for m in messages)
    assert "s3cr3t-value" not in text
    assert "abcdef" not in text
    assert "token=[FILTERED]" in text


def test_binary_bodies_are_logged_by_size(mocked_http):
    mocked_http.get("https://cdn.example.com/a.png", body=b"\x89PNG" * 10, content_type="image/png")
    http = client()
    http.get("https://cdn.example.com/a.png")
    assert "<binary: 40 bytes>" in http.logger.messages[-1]["message"]


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (requests.exceptions.ConnectionError("connection refused"), ConfigurationError, "refused"),
        (requests.exceptions.SSLError("certificate verify failed"), ConfigurationError, "TLS"),
        (requests.exceptions.ConnectTimeout("connect timed out"), ConfigurationError, "Timed out"),
        (requests.exceptions.ReadTimeout("read timed out"), RemoteError, "Timed out waiting"),
    ],
)
def test_transport_failures_become_service_errors(mocked_http, error, expected, text):
    mocked_http.get("https://api.example.com/", body=error)
    with pytest.raises(expected, match=text) as raised:
        client().get("https://api.example.com/")
    assert raised.value.original_exception is error


def test_a_passed_deadline_refuses_new_requests(mocked_http):
    with pytest.raises(TimeLimitExceeded, match="GET https://api.example.com/"):
        client(time_left=lambda: 0.0).get("https://api.example.com/")
    assert len(mocked_http.calls) == 0


def test_the_time_left_shortens_timeouts(mocked_http):
    mocked_http.get("https://api.example.com/", json={})
    client(time_left=lambda: 4.0).get("https://api.example.com/")
    assert mocked_http.calls[0].request.req_kwargs["timeout"] == (4.0, 4.0)


def test_a_per_request_timeout_is_honoured(mocked_http):
    mocked_http.get("https://api.example.com/", json={})
    client().get("https://api.example.com/", timeout=5)
    assert mocked_http.calls[0].request.req_kwargs["timeout"] == (5, 5)


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello via {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server(mocked_http):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mocked_http.add_passthru(responses.matchers.re.compile(r"http://[a-z.]+:\d+/"))
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_socket_connects_to_the_checked_address(loopback_server, fake_dns, monkeypatch):
    # The system resolver has never heard of this name: only the checked, pinned
    # address can be the one the socket reached.
    fake_dns["pinned.example.com"] = ["127.0.0.1"]
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.0/8")
    response = client().get(f"http://pinned.example.com:{loopback_server}/")
    assert response.text == f"hello via pinned.example.com:{loopback_server}"


def test_the_connection_check_refuses_what_the_first_check_allowed(loopback_server, monkeypatch):
    # DNS answers a public address first, then loopback: a rebinding attack.
    answers = iter(["93.184.215.14", "127.0.0.1"])
    monkeypatch.setattr(
        address_guard, "resolve", lambda host, port: [ipaddress.ip_address(next(answers))]
    )
    with pytest.raises(InvalidUrlError, match="127.0.0.1"):
        client().get(f"http://rebind.example.com:{loopback_server}/")


def test_a_header_http_cannot_carry_is_a_configuration_error_keeping_the_secret(
    loopback_server, fake_dns, monkeypatch
):
    fake_dns["redmine.example.com"] = ["127.0.0.1"]
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    key = "ключ-секрет-42"
    http = HttpClient(EventLogger(redactor=Redactor([key])))
    with pytest.raises(ConfigurationError) as raised:
        http.get(f"http://redmine.example.com:{loopback_server}/", headers={"X-Api-Key": key})
    assert str(raised.value).startswith(
        "A header for redmine.example.com holds characters HTTP headers cannot carry"
    )
    assert key not in str(raised.value)


def test_a_header_pasted_with_a_line_break_is_a_configuration_error_keeping_the_secret(
    mocked_http,
):
    key = "RMKEY-s3cr3t-0123456789\n"
    http = HttpClient(EventLogger(redactor=Redactor([key])))
    with pytest.raises(ConfigurationError) as raised:
        http.get("https://redmine.example.com/projects.json", headers={"X-Api-Key": key})
    assert str(raised.value).startswith("A header for redmine.example.com is not valid")
    assert "RMKEY" not in str(raised.value) and "[FILTERED]" in str(raised.value)
    assert len(mocked_http.calls) == 0


def _raise_for_status(response):
    if response.status_code >= 400:
        raise RemoteError(f"status {response.status_code}")


def test_get_all_pages_follows_link_next(mocked_http):
    first = "https://api.github.example.com/user/repos?per_page=100"
    second = "https://api.github.example.com/user/repos?per_page=100&page=2"
    mocked_http.get(first, json=[{"n": 1}, {"n": 2}], headers={"Link": f'<{second}>; rel="next"'})
    mocked_http.get(second, json=[{"n": 3}], headers={"Link": f'<{first}>; rel="prev"'})
    items = client().get_all_pages(
        "https://api.github.example.com/user/repos",
        params={"per_page": 100},
        check=_raise_for_status,
    )
    assert items == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [c.request.url for c in mocked_http.calls] == [first, second]


def test_get_all_pages_stops_at_the_page_bound(mocked_http):
    url = "https://api.example.com/items"
    for page in range(1, 5):
        link = f'<{url}?page={page + 1}>; rel="next"'
        mocked_http.get(f"{url}?page={page}", json=[page], headers={"Link": link})
    http = client()
    assert http.get_all_pages(f"{url}?page=1", check=_raise_for_status, max_pages=3) == [1, 2, 3]
    assert len(mocked_http.calls) == 3
    assert "Stopped after 3 pages" in http.logger.messages[-1]["message"]


def test_get_all_pages_reads_no_page_twice_when_the_links_go_round(mocked_http):
    first = "https://api.example.com/items?per_page=2"
    second = "https://api.example.com/items?per_page=2&page=2"
    mocked_http.get(first, json=[1, 2], headers={"Link": f'<{second}>; rel="next"'})
    mocked_http.get(second, json=[3], headers={"Link": f'<{first}>; rel="next"'})
    http = client()
    items = http.get_all_pages(
        "https://api.example.com/items", params={"per_page": 2}, check=_raise_for_status
    )
    assert items == [1, 2, 3]
    assert [c.request.url for c in mocked_http.calls] == [first, second]
    assert http.logger.messages[-1] == {
        "severity": Severity.WARN,
        "message": f"The next page of https://api.example.com/items is {first}, "
        "a page already read; stopped after 2 pages",
    }


def test_get_all_pages_checks_each_page(mocked_http):
    url = "https://api.example.com/items"
    mocked_http.get(url, status=401, json={"message": "Bad credentials"})
    with pytest.raises(RemoteError, match="status 401"):
        client().get_all_pages(url, check=_raise_for_status)
    mocked_http.replace(responses.GET, url, json={"not": "a list"})
    with pytest.raises(RemoteError, match="Expected a list"):
        client().get_all_pages(url, check=_raise_for_status)


def test_download_reads_a_file_within_the_limit(mocked_http):
    url = "https://cdn.aha.io/attachments/1/mockup.png"
    mocked_http.get(url, body=b"\x89PNG" + b"x" * 96, content_type="image/png")
    http = client()
    assert http.download(url) == b"\x89PNG" + b"x" * 96
    assert "<streamed>" in http.logger.messages[-1]["message"]


def test_download_refuses_a_file_over_the_limit(mocked_http):
    url = "https://cdn.aha.io/attachments/2/huge.bin"
    mocked_http.get(url, body=b"x" * 5000)
    with pytest.raises(RemoteError, match="larger than 1000 bytes"):
        client().download(url, max_bytes=1000)


def test_download_refuses_a_private_address_and_an_error(mocked_http):
    with pytest.raises(InvalidUrlError):
        client().download("http://10.0.0.4/secret.pdf")
    mocked_http.get("https://cdn.aha.io/gone", status=404)
    with pytest.raises(RemoteError, match="HTTP 404"):
        client().download("https://cdn.aha.io/gone")


def test_multipart_uploads_pass_through(mocked_http):
    mocked_http.post("https://redmine.example.com/uploads.json", json={"upload": {"token": "1"}})
    client().post(
        "https://redmine.example.com/uploads.json",
        files={"file": ("mockup.png", b"\x89PNG", "image/png")},
    )
    request = mocked_http.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'filename="mockup.png"' in request.body


def test_credential_headers_do_not_follow_a_redirect_to_another_host(mocked_http):
    mocked_http.get(
        "https://gitlab.example.com/api/v4/projects",
        status=302,
        headers={"Location": "https://elsewhere.example.com/collect"},
    )
    mocked_http.get("https://elsewhere.example.com/collect", json=[])
    client().get(
        "https://gitlab.example.com/api/v4/projects",
        headers={"PRIVATE-TOKEN": "glpat-123456", "X-Redmine-API-Key": "rm-123456", "Accept": "x"},
    )
    second = mocked_http.calls[1].request
    assert second.url == "https://elsewhere.example.com/collect"
    assert "PRIVATE-TOKEN" not in second.headers
    assert "X-Redmine-API-Key" not in second.headers
    assert second.headers["Accept"] == "x"


def test_credential_headers_follow_a_redirect_on_the_same_host(mocked_http):
    mocked_http.get("https://gitlab.example.com/old", status=301, headers={"Location": "/new"})
    mocked_http.get("https://gitlab.example.com/new", json=[])
    client().get("https://gitlab.example.com/old", headers={"PRIVATE-TOKEN": "glpat-123456"})
    assert mocked_http.calls[1].request.headers["PRIVATE-TOKEN"] == "glpat-123456"


class _KeepAlive(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: list[tuple[str, int]] = []
    cookies: list[str | None] = []

    def setup(self):
        super().setup()
        self.connections.append(self.client_address)

    def do_GET(self):
        self.cookies.append(self.headers.get("Cookie"))
        self.send_response(200)
        self.send_header("Set-Cookie", "session=from-an-earlier-event")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def keep_alive_server(mocked_http):
    _KeepAlive.connections, _KeepAlive.cookies = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mocked_http.add_passthru(responses.matchers.re.compile(r"http://[a-z.]+:\d+/"))
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _event_get(url):
    """One event's request, on a helper thread, with its client closed as receive() does."""

    def handler():
        http = client()
        try:
            return http.get(url).text
        finally:
            http.close()

    return run_with_time_limit(handler, 5, "Webhooks :create_feature")


def test_events_on_one_helper_thread_share_connections_not_cookies(
    keep_alive_server, fake_dns, monkeypatch
):
    fake_dns["sink.example.com"] = ["127.0.0.1"]
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.0/8")
    url = f"http://sink.example.com:{keep_alive_server}/"
    assert _event_get(url) == _event_get(url) == "ok"
    assert len(_KeepAlive.connections) == 1
    assert _KeepAlive.cookies == [None, None]


def test_a_kept_connection_does_not_skip_the_guard(keep_alive_server, fake_dns, monkeypatch):
    fake_dns["sink.example.com"] = ["127.0.0.1"]
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.0/8")
    url = f"http://sink.example.com:{keep_alive_server}/"
    assert _event_get(url) == "ok"
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "")
    with pytest.raises(InvalidUrlError, match="127.0.0.1 is not a public address"):
        _event_get(url)
    assert len(_KeepAlive.cookies) == 1


def test_an_answer_without_a_charset_reads_as_utf_8_never_guessed(mocked_http):
    body = "Données reçues — ok".encode()
    mocked_http.get("https://api.example.com/plain", body=body, content_type=None)
    mocked_http.get(
        "https://api.example.com/latin",
        body="Données".encode("latin-1"),
        content_type="text/plain; charset=iso-8859-1",
    )
    plain = client().get("https://api.example.com/plain")
    assert (plain.encoding, plain.text) == ("utf-8", "Données reçues — ok")
    assert client().get("https://api.example.com/latin").text == "Données"
    assert [call.request.method for call in mocked_http.calls] == ["GET", "GET"]


@pytest.mark.parametrize("content_type", ["text/plain", "text/html", "text/json"])
def test_a_text_answer_without_a_charset_reads_as_utf_8_too(mocked_http, content_type):
    mocked_http.get(
        "https://api.example.com/text",
        body='{"name": "Données reçues"}'.encode(),
        content_type=content_type,
    )
    answer = client().get("https://api.example.com/text")
    assert answer.text == '{"name": "Données reçues"}'
    assert answer.json() == {"name": "Données reçues"}


def test_credentials_in_the_users_netrc_are_never_added(mocked_http, monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine hooks.example.com login me password netrc-s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    mocked_http.post("https://hooks.example.com/aha", json={"ok": True})
    client().post("https://hooks.example.com/aha", json={"a": 1})
    assert "Authorization" not in mocked_http.calls[0].request.headers
    assert requests.utils.get_netrc_auth("https://hooks.example.com/aha") == ("me", "netrc-s3cret")
