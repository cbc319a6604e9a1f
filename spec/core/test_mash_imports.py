"""A mash loads python-box without the converter libraries it never uses."""

import subprocess
import sys

PROBE = """
import sys
from services.core.mash import frozen_mash, mash
assert mash({"a": 1}).a == 1 and frozen_mash({"b": [1]}).b == [1]
print(sorted(name for name in ("yaml", "ruamel.yaml", "msgpack") if name in sys.modules))
import yaml  # still importable for whoever needs it
print(yaml.safe_load("k: v"))
"""


def test_a_mash_leaves_yaml_unloaded_and_still_importable():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["[]", "{'k': 'v'}"]
