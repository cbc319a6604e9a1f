"""Redmine: Aha! features and requirements become issues, releases become versions."""

from services.redmine.service import Redmine

__all__ = ["Redmine"]
