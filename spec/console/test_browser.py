"""The console in a real browser: headless Chromium from Debian, driven by selenium.

Without ``chromium`` and ``chromedriver`` these specs skip, except where
``AHA_SERVICES_REQUIRE_SYSTEM_SPECS=1`` (``.ci/run``) says they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from spec.conftest import AHA_USER_DATA
from spec.proxy.live_server import ROOT, free_port, live_server

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
SCREENSHOT = ROOT / "docs" / "console-events.png"
TOKEN = "browser-token-4ff1c9"


def _browsers_or_skip() -> None:
    if CHROMIUM and DRIVER:
        return
    reason = (
        "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("AHA_SERVICES_REQUIRE_SYSTEM_SPECS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class Hook(BaseHTTPRequestHandler):
    """A third party on loopback: 200, or 500 when the payload says ``fail``."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if b"fail" in body else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b'{"stored": 1}\n ')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def browser(tmp_path):
    _browsers_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_the_console_in_a_browser(browser, hook, tmp_path: Path):
    from selenium.webdriver.common.by import By

    console_port = free_port()
    settings = {
        "CONSOLE_PORT": str(console_port),
        "AHA_SERVICES_DATA": str(tmp_path / "data"),
        "AHA_SERVICES_ALLOWED_HOSTS": "127.0.0.1",
        "AHA_SERVICES_RELOAD": "0",
    }
    (tmp_path / "spec").mkdir()
    shutil.copytree(ROOT / "spec" / "fixtures", tmp_path / "spec" / "fixtures")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    with live_server(tmp_path, **settings) as proxy:
        base = f"http://127.0.0.1:{console_port}"
        wait_for(lambda: _console_answers(base), 20, "the console")
        for path in ("/", "/events", "/events/stream", "/send"):
            assert proxy.get(path).status == 404, path

        browser.get(base + "/")
        sections = browser.find_elements(By.CSS_SELECTOR, "section.service")
        names = {section.get_attribute("id") for section in sections}
        assert {"webhooks", "slack", "jira", "trello"} <= names

        browser.get(base + "/events")
        time.sleep(0.3)  # the stream connects
        body = {
            "service_name": "webhooks",
            "event": "create_feature",
            "user_data": {**AHA_USER_DATA, "aha_api_token": TOKEN, "hook_url": hook},
            "payload": {"feature": {"name": "Shown live"}},
            "meta_data": {},
        }
        sent = time.monotonic()
        assert proxy.post("/send_event", body).status == 200
        row = wait_for(
            lambda: browser.find_elements(By.CSS_SELECTOR, "#events tbody tr.fresh"), 2.0, "a row"
        )[0]
        assert time.monotonic() - sent < 2.0
        assert "webhooks" in row.text and "create_feature" in row.text and "ok" in row.text
        browser.save_screenshot(str(tmp_path / "events.png"))
        assert TOKEN not in browser.page_source

        row.find_element(By.TAG_NAME, "a").click()
        outbound = wait_for(
            lambda: browser.find_elements(By.CSS_SELECTOR, "details.outbound summary"), 5, "page"
        )
        assert f"POST {hook}" in outbound[0].text and "200" in outbound[0].text
        assert TOKEN not in browser.page_source

        payload = browser.find_element(By.NAME, "payload")
        payload.clear()
        payload.send_keys(json.dumps({"feature": {"name": "please fail"}}))
        browser.find_element(By.CSS_SELECTOR, "form.replay button").click()
        outcome = wait_for(
            lambda: browser.find_elements(By.CSS_SELECTOR, ".outcome.failed"), 20, "the replay"
        )
        assert "failed: RemoteError" in outcome[0].text
        assert "replay of" in browser.find_element(By.CSS_SELECTOR, ".summary").text
        assert TOKEN not in browser.page_source

        stream = proxy_text(base + "/events/stream?after=0")
        assert "create_feature" in stream and TOKEN not in stream
    if os.environ.get("CONSOLE_SCREENSHOT") == "1":  # refreshes the one in docs/console.md
        shutil.copy(tmp_path / "events.png", SCREENSHOT)


def _console_answers(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(base + "/events", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def proxy_text(url: str) -> str:
    """The first second of a stream."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=3) as connection:
        head = f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        connection.sendall(head.encode())
        data, deadline = b"", time.monotonic() + 1.0
        connection.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                data += connection.recv(65536)
            except TimeoutError:
                continue
    return data.decode(errors="replace")
