"""GitLab Issues: Aha! features and requirements become issues, releases milestones."""

from services.gitlab_issues.service import GitlabIssues

__all__ = ["GitlabIssues"]
