"""Rally: Aha! features and requirements become user stories or portfolio items, releases
become Rally releases, and Rally's webhooks bring names, owners and states back."""

from services.rally.service import Rally

__all__ = ["Rally"]
