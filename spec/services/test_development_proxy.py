import pytest

from services.core import ConfigurationError, InvalidUrlError
from services.development_proxy import DevelopmentProxy


def test_schema_keeps_the_names_aha_stores():
    assert [(f.type, f.name) for f in DevelopmentProxy.schema] == [
        ("string", "proxy_server_url"),
        ("internal", "development_form"),
    ]
    assert DevelopmentProxy.service_name == "development_proxy"
    assert (DevelopmentProxy.title, DevelopmentProxy.category) == ("Development Proxy", "API")


@pytest.mark.parametrize("event", ["create_feature", "update_release", "webhook", "anything_new"])
def test_responds_to_every_event(event, mocked_http):
    assert DevelopmentProxy.responds_to_event(event)
    service = DevelopmentProxy({"proxy_server_url": "https://abc123.ngrok.app"})
    service.receive(event)
    assert "ignoring" not in str(service.logger.messages)
    assert f"Event :{event} is forwarded" in service.logger.messages[-1]["message"]
    assert len(mocked_http.calls) == 0


def test_a_missing_proxy_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="proxy_server_url"):
        DevelopmentProxy({}).receive("create_feature")


def test_a_malformed_proxy_url_is_refused():
    with pytest.raises(InvalidUrlError):
        DevelopmentProxy({"proxy_server_url": "abc123.ngrok.app"}).receive("create_feature")
