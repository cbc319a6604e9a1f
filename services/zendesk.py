"""Zendesk: agents create and link Aha! ideas from tickets through the Aha! app in Zendesk."""

from services.core import Service, internal


class Zendesk(Service):
    """Holds the ideas portal the Zendesk app uses; the app itself calls the Aha! API."""

    caption = "Receive ideas from a Zendesk helpdesk"
    category = "Customer relationship management"
    schema = (internal("idea_portal_id"),)
