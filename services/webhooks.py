"""Integration webhook: features and releases sent as JSON to a URL of the user's."""

from services.core.kits.webhook import HookService, hook_url_field, validate_cert_field


class Webhooks(HookService):
    title = "Integration webhook"
    caption = "Generic HTTP webhook for feature integration"
    schema = (hook_url_field(), validate_cert_field())

    def receive_create_feature(self) -> None:
        self.deliver_payload()

    def receive_update_feature(self) -> None:
        self.deliver_payload()

    def receive_create_release(self) -> None:
        self.deliver_payload()

    def receive_update_release(self) -> None:
        self.deliver_payload()
