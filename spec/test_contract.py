"""Every service of this repository has its three files and a well-formed schema.

Services that an installed plugin package adds through the ``aha_services`` entry
points live elsewhere, with their own docs and specs: they are not held to this.
"""

import json
import re
from pathlib import Path

import pytest

from proxy.app import create_app
from services.core.registry import default_registry, load_registry
from services.core.schema import schema_problems

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REPOSITORY = load_registry(use_entry_points=False)
SERVICES = list(REPOSITORY)


def test_every_service_module_loads():
    assert REPOSITORY.failures == []
    assert len(SERVICES) >= 4


def test_the_services_table_matches_what_the_registry_loads():
    rows = re.findall(
        r"^\| \[`(\w+)`\]\(docs/(\w+)\.md\) \| ([^|]+?) \|", README.read_text(), re.MULTILINE
    )
    assert {name: title for name, _, title in rows} == {s.service_name: s.title for s in SERVICES}
    assert all(name == doc for name, doc, _ in rows)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.service_name)
def test_every_service_has_its_doc(service):
    doc = ROOT / "docs" / f"{service.service_name}.md"
    assert doc.is_file(), f"{doc} is missing"
    assert len(doc.read_text().strip()) > 100


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.service_name)
def test_every_service_has_its_spec(service):
    spec = ROOT / "spec" / "services" / f"test_{service.service_name}.py"
    assert spec.is_file(), f"{spec} is missing"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.service_name)
def test_every_schema_is_well_formed(service):
    assert schema_problems(service.schema) == []
    assert service.title and service.service_name.isidentifier()
    assert isinstance(service.caption_display(), str)
    assert all(name in {f.name for f in service.schema} for name in service.white_listed)
    json.dumps([entry.to_wire() for entry in service.schema])


def test_configuration_serialises():
    answer = create_app().test_client().get("/configuration")
    names = [s["service_name"] for s in json.loads(answer.get_data())["services"]]
    assert names == sorted(s.service_name for s in default_registry())
    assert {s.service_name for s in SERVICES} <= set(names)
