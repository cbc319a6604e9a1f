import sys
import textwrap
import types
from importlib.metadata import EntryPoint

import pytest

from services.core import registry as registry_module
from services.core.registry import Registry, load_registry


@pytest.fixture
def plugin_package(tmp_path, monkeypatch):
    """A throwaway package of service modules, one of them broken."""
    package = tmp_path / "fakeplugins"
    package.mkdir()
    (package / "__init__.py").write_text("")
    files = {
        "alpha.py": """
            from services.core import Service

            class Alpha(Service):
                def receive_create_feature(self):
                    pass
        """,
        "broken.py": """
            import a_module_that_does_not_exist
        """,
        "clash.py": """
            from services.core import Service

            class NotAlpha(Service):
                service_name = "alpha"
        """,
        "helpers.py": """
            from services.core import Service

            class Base(Service):
                abstract = True

            VALUE = 1
        """,
        "_private.py": """
            raise RuntimeError("never imported")
        """,
        "quits.py": """
            import sys

            sys.exit("quits: no configuration file")
        """,
    }
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    nested = package / "beta"
    nested.mkdir()
    (nested / "__init__.py").write_text("from fakeplugins.beta.service import Beta\n")
    (nested / "service.py").write_text(
        "from services.core import Service\n\nclass Beta(Service):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fakeplugins"
    for name in [m for m in sys.modules if m.startswith("fakeplugins")]:
        del sys.modules[name]


def test_finds_every_service_module_without_a_list(plugin_package):
    registry = load_registry(plugin_package, use_entry_points=False)
    assert sorted(registry.services) == ["alpha", "beta"]
    assert registry.get("alpha").__name__ == "Alpha"
    assert registry.get("missing") is None


def test_a_broken_module_is_reported_and_the_others_still_load(plugin_package):
    registry = load_registry(plugin_package, use_entry_points=False)
    broken = [f for f in registry.failures if f.source == "fakeplugins.broken"]
    assert len(broken) == 1
    assert "ModuleNotFoundError" in broken[0].message
    assert "a_module_that_does_not_exist" in broken[0].traceback
    assert len(registry) == 2


def test_two_services_with_one_name_is_a_load_error_naming_both(plugin_package):
    registry = load_registry(plugin_package, use_entry_points=False)
    clash = [f for f in registry.failures if "defined twice" in f.message]
    assert len(clash) == 1
    assert "fakeplugins.alpha.Alpha" in clash[0].message
    assert "fakeplugins.clash.NotAlpha" in clash[0].message


def test_private_modules_and_abstract_bases_are_passed_over(plugin_package):
    registry = load_registry(plugin_package, use_entry_points=False)
    assert "base" not in registry.services
    assert not any("_private" in f.source for f in registry.failures)


def test_entry_points_add_third_party_services(plugin_package, monkeypatch):
    points = [
        EntryPoint("beta_pkg", "fakeplugins.beta", "aha_services"),
        EntryPoint("alpha_cls", "fakeplugins.alpha:Alpha", "aha_services"),
        EntryPoint("nope", "fakeplugins.missing_module", "aha_services"),
        EntryPoint("odd", "fakeplugins.helpers:VALUE", "aha_services"),
    ]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    registry = load_registry("services", use_entry_points=True)
    assert {"alpha", "beta", "webhooks"} <= set(registry.services)
    messages = " ".join(f"{f.source}: {f.message}" for f in registry.failures)
    assert "entry point nope" in messages
    assert "must name a module or a Service class" in messages


def test_the_project_registry_loads_cleanly():
    registry = load_registry()
    assert registry.failures == []
    assert {"webhooks", "audit_webhook", "security_webhook", "development_proxy"} <= set(
        registry.services
    )


def test_configuration_document_has_the_wire_shape():
    document = load_registry().configuration()
    webhooks = next(s for s in document["services"] if s["service_name"] == "webhooks")
    assert webhooks["title"] == "Integration webhook"
    assert webhooks["schema"][0] == {
        "type": "string",
        "name": "hook_url",
        "options": {"description": "The URL that receives each event as an HTTP POST of JSON."},
    }


def test_a_module_that_exits_on_import_is_a_load_failure(plugin_package):
    registry = load_registry(plugin_package, use_entry_points=False)
    quits = [f for f in registry.failures if f.source == "fakeplugins.quits"]
    assert len(quits) == 1
    assert quits[0].message == "SystemExit: quits: no configuration file"
    assert sorted(registry.services) == ["alpha", "beta"]


def test_an_entry_point_that_exits_on_load_is_a_load_failure(plugin_package, monkeypatch):
    points = [EntryPoint("quitter", "fakeplugins.quits", "aha_services")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    registry = load_registry(plugin_package, use_entry_points=True)
    assert any(
        f.source.startswith("entry point quitter") and "SystemExit" in f.message
        for f in registry.failures
    )


def test_an_interrupt_while_loading_still_stops(plugin_package, monkeypatch):
    real_import = registry_module.importlib.import_module

    def interrupted(name):
        if name == "fakeplugins.alpha":
            raise KeyboardInterrupt
        return real_import(name)

    monkeypatch.setattr(registry_module.importlib, "import_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_registry(plugin_package, use_entry_points=False)


def test_the_proxy_serves_the_others_when_a_module_exits(plugin_package):
    from proxy.app import create_app

    registry = load_registry(plugin_package, use_entry_points=False)
    answer = create_app(registry).test_client().get("/configuration")
    assert answer.status_code == 200
    names = [s["service_name"] for s in answer.get_json()["services"]]
    assert names == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("fakeplugins.quits", "quits"),
        ("services.halo_itsm", "halo_itsm"),
        ("entry point jira (acme_jira.service)", "jira"),
    ],
)
def test_a_failure_is_found_by_the_service_name_it_would_have(source, name):
    registry = Registry()
    registry.fail(source, RuntimeError("boom"))
    assert registry.failure_for(name).source == source
    assert registry.failure_for("other") is None


def test_a_service_is_named_after_its_class_unless_it_says_otherwise():
    from services.core import Service

    class PongService(Service):
        pass

    class Ping(Service):
        service_name = "pinger"

    registry = Registry()
    registry.add(PongService, "pong")
    registry.add(Ping, "ping")
    assert sorted(registry.services) == ["pinger", "pong_service"]
    assert PongService.title == "Pong Service"


def test_a_module_whose_commands_fail_to_build_is_a_failure_and_the_others_stay():
    class Named:
        name = "good"

    def broken():
        raise ImportError("no module named helpers")

    registry = Registry()
    for name, offer in (("plugins.good", [Named()]), ("plugins.bad", broken)):
        module = types.ModuleType(name)
        module.cli_commands = offer
        registry.add_module(module)
    assert list(registry.commands) == ["good"]
    assert [(f.source, f.message) for f in registry.failures] == [
        ("plugins.bad.cli_commands", "ImportError: no module named helpers")
    ]
    assert list(registry.commands) == ["good"] and len(registry.failures) == 1
