"""Confluence: Aha! roadmaps, reports and presentations embedded in Confluence pages."""

from services.core import Service, confluence_button


class Confluence(Service):
    """A presentational integration: Confluence pulls shared Aha! views, Aha! sends nothing."""

    caption = "Embed a live Aha! roadmap, report, or presentation in your Confluence page."
    category = "Knowledge management"
    schema = (confluence_button(),)

    def receive_wiki(self) -> None:
        """Accepted and left alone: the event only marks this as a wiki integration."""
