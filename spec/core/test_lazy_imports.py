"""Loading every service imports no HTTP library: a proxy worker answers
``/configuration`` and ignored events without requests or urllib3, and the first
request a service sends imports them."""

import subprocess
import sys

PROBE = """
import sys
from services.core.registry import load_registry
registry = load_registry()
assert len(registry) > 20, len(registry)
print(sorted(name for name in ("requests", "urllib3") if name in sys.modules))
from services.core.http import HttpClient
print(sorted(name for name in ("requests", "urllib3") if name in sys.modules))
"""


def _printed(script: str) -> list[str]:
    """The lines ``script`` prints in a fresh interpreter, where nothing is imported yet."""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.splitlines()


def test_the_services_load_without_requests_until_a_client_is_made():
    assert _printed(PROBE) == ["[]", "['requests', 'urllib3']"]


CHARSET_PROBE = """
import sys, warnings
warnings.simplefilter("error")
import services.core.http
print("charset_normalizer" in sys.modules, "chardet" in sys.modules)
import charset_normalizer
print(bool(charset_normalizer.detect))
"""


def test_requests_comes_without_its_charset_guessers_which_stay_importable():
    assert _printed(CHARSET_PROBE) == ["False False", "True"]


def test_import_without_hands_back_a_module_already_loaded(monkeypatch):
    from services.core.lean_imports import import_without

    monkeypatch.setitem(sys.modules, "json_again", sys.modules["json"])
    assert import_without("json_again", ("anything",)) is sys.modules["json"]
    assert "anything" not in sys.modules


HOST_PROBE = """
import sys
import host.intake
print(sorted(name for name in ("requests", "charset_normalizer") if name in sys.modules))
import host.worker
from services.core.http import HttpClient
print(sorted(name for name in ("requests", "charset_normalizer") if name in sys.modules))
"""


def test_the_host_imports_requests_only_for_its_worker_and_without_the_guessers():
    assert _printed(HOST_PROBE) == ["[]", "['requests']"]
