from services.confluence import Confluence
from services.core.logger import Severity


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name, dict(f.options)) for f in Confluence.schema] == [
        ("confluence_button", "confluence_button", {}),
    ]
    assert [f.to_wire() for f in Confluence.schema] == [
        {"type": "confluence_button", "name": "confluence_button", "options": {}}
    ]
    assert (
        Confluence.service_name,
        Confluence.title,
        Confluence.category,
        Confluence.caption,
    ) == (
        "confluence",
        "Confluence",
        "Knowledge management",
        "Embed a live Aha! roadmap, report, or presentation in your Confluence page.",
    )


def test_the_wiki_event_is_accepted_and_sends_nothing(mocked_http, user_data):
    assert Confluence.responds_to_events() == ["wiki"]
    service = Confluence(user_data, {"wiki": {"id": "123"}}, {"kept": "as is"})
    service.receive("wiki")
    assert len(mocked_http.calls) == 0
    assert service.logger.messages == [
        {"severity": Severity.INFO, "message": "Sending :wiki using Confluence"}
    ]
    assert service.meta_data_to_return() == {"kept": "as is"}


def test_other_events_are_ignored(mocked_http, user_data):
    service = Confluence(user_data)
    service.receive("installed")
    assert len(mocked_http.calls) == 0
    assert service.logger.messages == [
        {"severity": Severity.INFO, "message": "Confluence ignoring event :installed"}
    ]
