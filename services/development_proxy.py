"""The Development Proxy integration's own entry, so Aha! can list and configure it."""

from services.core import ConfigurationError, Service, internal, string
from services.core.address_guard import split_url


class DevelopmentProxy(Service):
    """Aha! forwards every event of this integration to ``proxy_server_url``.

    Aha! itself does the forwarding; here the service only checks its setting, so
    that a misconfigured integration says what is wrong.
    """

    caption = "Developing new integrations"
    category = "API"
    schema = (
        string("proxy_server_url", description="URL of the proxy server to send all requests to."),
        internal("development_form"),
    )

    @classmethod
    def responds_to_event(cls, event: str) -> bool:
        return True

    def receive_event(self) -> None:
        url = self.data.get("proxy_server_url")
        if not url:
            raise ConfigurationError("Set the proxy server URL (proxy_server_url)")
        split_url(str(url))
        self.logger.info(f"Event :{self.event} is forwarded by Aha! to the proxy server")
