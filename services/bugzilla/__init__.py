"""Bugzilla: Aha! features and their requirements become bugs, requirements blocking the feature."""

from services.bugzilla.service import Bugzilla

__all__ = ["Bugzilla"]
