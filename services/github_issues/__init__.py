"""GitHub Issues: Aha! features and requirements become issues, releases milestones."""

from services.github_issues.service import GithubIssues

__all__ = ["GithubIssues"]
