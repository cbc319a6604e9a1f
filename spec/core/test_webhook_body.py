import pytest

from services.core.webhook_body import carried_body


def test_the_payload_member_as_json_text_is_parsed():
    assert carried_body({"payload": '{"action": "closed"}'}) == {"action": "closed"}


def test_the_payload_member_as_an_object_is_taken_as_it_is():
    assert carried_body({"payload": {"action": "closed"}}) == {"action": "closed"}


@pytest.mark.parametrize("payload", [{"action": "closed"}, {"action": "closed", "payload": {}}])
def test_without_a_payload_member_the_payload_is_the_body(payload):
    assert carried_body(payload) == payload


def test_blank_text_is_no_body():
    assert carried_body({"payload": "  "}) is None


def test_text_that_is_not_json_is_a_value_error():
    with pytest.raises(ValueError):
        carried_body({"payload": "{not json"})
