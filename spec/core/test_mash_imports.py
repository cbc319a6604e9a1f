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


SOURCES_PROBE = """
import sys
from services.core.mash import mash
assert mash({"a": {"b": [1]}}).a.b == [1] and not mash({}).missing
print(sorted({sys.modules[name].__spec__.origin.rpartition(".")[2]
              for name in ("box", "box.box", "box.box_list", "box.converters")}))
print(any(type(finder).__name__ == "_SourcesOf" for finder in sys.meta_path))
"""


def test_a_mash_runs_python_box_from_its_sources_and_leaves_imports_as_they_were():
    result = subprocess.run(
        [sys.executable, "-c", SOURCES_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.splitlines() == ["['py']", "False"]
