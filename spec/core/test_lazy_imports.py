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


def test_the_services_load_without_requests_until_a_client_is_made():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["[]", "['requests', 'urllib3']"]
