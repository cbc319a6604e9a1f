"""``honcho start host``, the Procfile line ``make host`` runs: the intake on PORT and
the host's console beside it on HOST_CONSOLE_PORT, loopback only, never on the intake's
port, and gone when the intake stops."""

import shutil

from spec.proxy.live_server import BIN, ROOT, LiveServer, free_port, start, wait_until

SECRET = "live-intake-secret-31337"


def _started(root, intake_port, console_port):
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("services", "host", "console"):
        shutil.copytree(ROOT / package, root / package, ignore=ignore)
    shutil.copy(ROOT / "Procfile", root / "Procfile")
    (root / "integrations.toml").write_text(
        '[aha]\ndomain = "acme"\ntoken = "live-aha-token-2718"\n'
        f'[integrations.hooks]\nservice = "webhooks"\nsecret = "{SECRET}"\n'
        'settings = { hook_url = "https://h.example.com/x" }\n'
    )
    settings = {"HOST_CONSOLE_PORT": str(console_port), "AHA_SERVICES_DATA": str(root / "data")}
    intake = start([str(BIN / "honcho"), "start", "host"], root, intake_port, root, **settings)
    return intake, LiveServer(root, console_port, intake.process, intake.log)


def _answers(server, path):
    if server.process.poll() is not None:
        raise AssertionError(f"honcho exited:\n{server.output()}")
    try:
        return server.get(path, timeout=2.0).status == 200
    except OSError:
        return False


def test_make_hosts_line_starts_the_hosts_console_on_its_own_loopback_port(tmp_path):
    intake, console = _started(tmp_path, free_port(), free_port())
    try:
        wait_until(lambda: _answers(intake, "/healthz"), 30, "the intake")
        wait_until(lambda: _answers(console, "/jobs"), 30, "the host's console")
        accepted = intake.post(f"/aha/hooks?token={SECRET}", {"event": "create_feature"})
        assert accepted.status == 202
        job = accepted.json()["job"]
        page = console.get("/jobs").body.decode()
        assert f"/jobs/{job}" in page
        assert SECRET not in page
        for path in ("/", "/events", "/jobs", f"/jobs/{job}", "/send"):
            assert intake.get(path).status == 404, path
        assert "the host's console: http://127.0.0.1:" in intake.output()
    finally:
        intake.stop()
    wait_until(lambda: not _listening(console), 10, "the console to stop")


def _listening(server):
    try:
        server.connect(0.5).close()
    except OSError:
        return False
    return True
