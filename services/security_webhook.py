"""Security webhook: security-related account activity, as JSON."""

from services.core import time_limit
from services.core.kits.webhook import HookService, hook_url_field, validate_cert_field


class SecurityWebhook(HookService):
    title = "Security webhook"
    caption = "HTTP webhook for security related activity"
    schema = (hook_url_field(), validate_cert_field())

    @time_limit(5)
    def receive_security(self) -> None:
        self.deliver_payload()
