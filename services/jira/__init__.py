"""Jira: Aha! features, requirements and releases become Jira issues, sub-tasks and versions."""

from services.jira.connect import JiraConnect
from services.jira.service import Jira

__all__ = ["Jira", "JiraConnect"]
