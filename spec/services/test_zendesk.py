import pytest

from services.core.logger import Severity
from services.zendesk import Zendesk


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name, dict(f.options)) for f in Zendesk.schema] == [
        ("internal", "idea_portal_id", {}),
    ]
    assert [f.to_wire() for f in Zendesk.schema] == [
        {"type": "internal", "name": "idea_portal_id", "options": {}}
    ]
    assert (Zendesk.service_name, Zendesk.title, Zendesk.category, Zendesk.caption) == (
        "zendesk",
        "Zendesk",
        "Customer relationship management",
        "Receive ideas from a Zendesk helpdesk",
    )
    assert Zendesk.responds_to_events() == []


@pytest.mark.parametrize("event", ["installed", "updated", "create_feature"])
def test_every_event_is_ignored_without_a_request(mocked_http, user_data, event):
    service = Zendesk({**user_data, "idea_portal_id": "6789012345"})
    service.receive(event)
    assert len(mocked_http.calls) == 0
    assert service.logger.messages == [
        {"severity": Severity.INFO, "message": f"Zendesk ignoring event :{event}"}
    ]
