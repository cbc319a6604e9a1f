"""``aha-services new NAME``: three files that the registry, the contract and pytest accept."""

import importlib.util
import sys

import pytest
from click.testing import CliRunner

from services.core.cli import app as cli
from services.core.cli import new_command
from services.core.docs import settings_table_problems


@pytest.fixture
def root(tmp_path, monkeypatch):
    for folder in ("services", "docs", "spec/services"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setattr(new_command, "project_root", lambda: tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli.main, ["new", *args])


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_new_writes_a_module_a_doc_and_a_passing_spec(root, monkeypatch, mocked_http):
    result = run("acme_tracker")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "created services/acme_tracker.py",
        "created docs/acme_tracker.md",
        "created spec/services/test_acme_tracker.py",
    ]
    module = load(root / "services" / "acme_tracker.py", "services.acme_tracker")
    monkeypatch.setitem(sys.modules, "services.acme_tracker", module)
    service = module.AcmeTracker
    assert (service.service_name, service.title) == ("acme_tracker", "Acme Tracker")
    doc = (root / "docs" / "acme_tracker.md").read_text()
    assert doc.startswith("# Acme Tracker (`acme_tracker`)")
    assert settings_table_problems(service, doc) == []
    spec = load(root / "spec" / "services" / "test_acme_tracker.py", "spec_new_acme")
    spec.test_create_feature_creates_an_item(mocked_http)
    assert len(mocked_http.calls) == 1


def test_new_adds_the_service_to_the_readme_table_the_contract_reads(root):
    """Right after ``new``, the contract spec (README's table against the registry) passes."""
    readme = root / "README.md"
    readme.write_text(
        "## Services\n\n| Service | Title | What it does |\n| --- | --- | --- |\n"
        "| [`webhooks`](docs/webhooks.md) | Integration webhook | POSTs JSON |\n"
        "\nMore text.\n"
    )
    result = run("acme_desk")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "added acme_desk to the services table in README.md"
    assert readme.read_text().splitlines()[4:7] == [
        "| [`webhooks`](docs/webhooks.md) | Integration webhook | POSTs JSON |",
        "| [`acme_desk`](docs/acme_desk.md) | Acme Desk | (what it does) |",
        "",
    ]


def test_new_package_writes_an_init_module(root):
    assert run("acme_board", "--package").exit_code == 0
    assert (root / "services" / "acme_board" / "__init__.py").exists()


@pytest.mark.parametrize("name", ["webhooks", "Bad-Name", "x", "a__b"])
def test_new_refuses_a_name_that_exists_or_is_not_snake_case(root, name):
    result = run(name)
    assert result.exit_code == 2
    assert not (root / "docs" / f"{name}.md").exists()


def test_new_refuses_when_a_file_is_in_the_way(root):
    (root / "docs" / "acme_wiki.md").write_text("# mine\n")
    result = run("acme_wiki")
    assert result.exit_code == 2 and "docs/acme_wiki.md" in result.output
    (root / "services" / "acme_wiki.py").write_text("")
    assert run("acme_wiki").output.count("services/acme_wiki.py") == 1
