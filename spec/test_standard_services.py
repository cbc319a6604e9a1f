"""The standard checks of ``services.core.testing``, applied to every service of this repo."""

from services.core.registry import default_registry
from services.core.testing import StandardServiceTests, payloads_in
from spec.conftest import FIXTURES, json_fixture

SLACK_HOOK = "https://hooks.slack.com/services/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"


class TestStandardServices(StandardServiceTests):
    services = tuple(default_registry())
    # create_feature_event.json, audit_event.json, ...; webhook_event.json is a ping.
    payloads = payloads_in(FIXTURES)
    service_payloads = {
        "github_issues": {"webhook": json_fixture("github_issues/issues_event.json")},
        "gitlab_issues": {"webhook": json_fixture("gitlab_issues/webhook_issue_close.json")},
        "halo_itsm": {"webhook": json_fixture("halo_itsm/webhook_ticket_updated.json")},
        "jira": {"webhook": json_fixture("jira/webhook_issue_updated.json")},
        "jira_connect": {"webhook": json_fixture("jira/webhook_issue_updated.json")},
        "trello": {"webhook": json_fixture("trello/card_moved_webhook.json")},
    }
    # What the schemas cannot suggest: values their buttons store, names a vendor
    # requires, and status mappings that the webhook fixtures hit.
    settings = {
        "github_issues": {
            "repository": "acme-finance/ledger",
            "status_mapping": {"closed": "7000000000000000301"},
        },
        "gitlab_issues": {
            "project": "finance/invoicing",
            "status_mapping": {"closed": "7000000000000000301"},
        },
        "halo_itsm": {"status_mapping": {"9": "Shipped"}},
        "jira": {"project": "PAY", "feature_status_mapping": {"3": "7000000000000000301"}},
        "jira_connect": {"project": "PAY", "feature_status_mapping": {"3": "7000000000000000301"}},
        "salesforce": {
            "host": "acme--uat.sandbox.my.salesforce.com",
            "consumer_key": "3MVG9standard.consumer.key",
            "idea_portal_url": "https://ideas.acme.example/",
        },
        "slack": {"url": SLACK_HOOK},
        "slack_commands": {"url": SLACK_HOOK},
        "trello": {
            "oauth_key": "b6f2c9d1e4a7standardkey",
            "feature_status_mapping": {"64b0a1c2d3e4f50011bb0002": "7000000000000000301"},
        },
    }
