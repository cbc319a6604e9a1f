"""Azure DevOps: Aha! features and requirements become work items, in the cloud
(``tfs``) or on an Azure DevOps Server (``tfs_on_premise``)."""

from services.azure_devops.services import AzureDevOpsServer, AzureDevOpsServices

__all__ = ["AzureDevOpsServer", "AzureDevOpsServices"]
