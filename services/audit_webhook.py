"""Activity webhook: every record change in a workspace or account, as JSON."""

from services.core import audit_filter, time_limit
from services.core.kits.webhook import HookService, hook_url_field, validate_cert_field


class AuditWebhook(HookService):
    title = "Activity webhook"
    caption = "HTTP webhook for all record changes"
    schema = (hook_url_field(), audit_filter(), validate_cert_field())

    @time_limit(5)
    def receive_audit(self) -> None:
        self.deliver_payload()
