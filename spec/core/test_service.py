import time

import pytest
import requests
from box import BoxError

from services.core import (
    ConfigurationError,
    InvalidUrlError,
    RemoteError,
    Service,
    TimeLimitExceeded,
    number,
    password,
    string,
    time_limit,
)
from services.core.logger import Severity
from spec.conftest import json_fixture


class GithubIssues(Service):
    schema = (string("server_url"), password("api_token"))
    white_listed = ("server_url",)

    def receive_create_feature(self):
        self.meta_data.seen = self.payload.feature.reference_num
        self.logger.info(f"token is {self.data.api_token}")

    def receive_slow(self):
        time.sleep(2)

    @time_limit(0.1)
    def receive_quick(self):
        time.sleep(2)

    def receive_broken_transport(self):
        raise requests.exceptions.ConnectionError("Name or service not known")

    def receive_read_timeout(self):
        raise requests.exceptions.ReadTimeout("read timed out")

    def receive_change_data(self):
        self.data.server_url = "https://evil.example.com"


class TFSOnPremise(Service):
    pass


class Custom(Service):
    title = "Custom!"
    service_name = "custom"
    category = "API"
    caption = staticmethod(lambda workspace_type: f"For {workspace_type}")


def test_title_and_service_name_default_from_the_class_name():
    assert GithubIssues.title == "Github Issues"
    assert GithubIssues.service_name == "github_issues"
    assert TFSOnPremise.service_name == "tfs_on_premise"
    assert TFSOnPremise.title == "Tfs On Premise"
    assert GithubIssues.category == "Development"
    assert GithubIssues.caption_display() == ""


def test_title_name_category_and_caption_can_be_set():
    assert (Custom.title, Custom.service_name, Custom.category) == ("Custom!", "custom", "API")
    assert Custom.caption_display("marketing_workspace") == "For marketing_workspace"


def test_responds_to_events_lists_receive_methods():
    assert GithubIssues.responds_to_events() == [
        "broken_transport",
        "change_data",
        "create_feature",
        "quick",
        "read_timeout",
        "slow",
    ]
    assert GithubIssues.responds_to_event("create_feature")
    assert not GithubIssues.responds_to_event("update_release")


def test_receive_dispatches_and_keeps_meta_data_changes():
    service = GithubIssues(
        {"api_token": "tok"}, json_fixture("create_feature_event.json"), {"a": 1}
    )
    service.receive("create_feature")
    assert service.meta_data.to_dict() == {"a": 1, "seen": "ACME-12"}
    assert service.logger.messages[0] == {
        "severity": Severity.INFO,
        "message": "Sending :create_feature using Github Issues",
    }


def test_an_unknown_event_is_logged_as_ignored():
    service = GithubIssues()
    assert service.receive("update_release") is service
    assert service.logger.messages == [
        {"severity": 1, "message": "Github Issues ignoring event :update_release"}
    ]


@pytest.mark.parametrize("event", ["", "__init__", "Create", "create-feature", "../x"])
def test_odd_event_names_are_ignored_not_dispatched(event):
    service = GithubIssues()
    service.receive(event)
    assert "ignoring event" in service.logger.messages[0]["message"]


def test_password_fields_never_reach_the_log():
    service = GithubIssues({"api_token": "ghp_secret_value_1"}, {"feature": {}})
    service.receive("create_feature")
    assert "ghp_secret_value_1" not in str(service.logger.messages)
    assert "token is [FILTERED]" in str(service.logger.messages)


def test_the_aha_api_token_is_a_secret_too():
    service = GithubIssues({"aha_api_token": "aha-token-xyz"})
    service.logger.info("calling with aha-token-xyz")
    assert service.logger.messages[-1]["message"] == "calling with [FILTERED]"


def test_data_cannot_be_changed_by_the_service():
    with pytest.raises(BoxError):
        GithubIssues({"server_url": "https://ok.example.com"}).receive("change_data")


def test_an_event_runs_under_the_configured_time_limit(monkeypatch):
    limits = []
    monkeypatch.setattr(
        "services.core.service.run_with_time_limit",
        lambda function, seconds, what: limits.append((seconds, what)),
    )
    GithubIssues({"timeout": "20"}).receive("slow")
    GithubIssues({"timeout": 600}).receive("slow")
    assert limits == [(20.0, "Github Issues :slow"), (600.0, "Github Issues :slow")]


@pytest.mark.parametrize("timeout", ["inf", "nan", "1e308", "-1", "0", "abc", 0.5, 601, True, [5]])
def test_a_timeout_setting_out_of_range_is_a_configuration_error(timeout):
    with pytest.raises(ConfigurationError, match="timeout setting must be a number from 1 to 600"):
        GithubIssues({"timeout": timeout}).receive("slow")


def test_an_unset_timeout_setting_reads_as_the_default():
    service = GithubIssues({"timeout": ""})
    assert service._time_limit(service.receive_slow, None) == 310.0
    assert service._time_limit(service.receive_slow, 42.0) == 42.0


class Poller(Service):
    schema = (number("interval", minimum=5, maximum=60), number("timeout", minimum=1, maximum=30))

    def receive_poll(self):
        self.meta_data.polled = True


@pytest.mark.parametrize("settings", [{"interval": "4"}, {"interval": "Infinity"}, {"timeout": 31}])
def test_every_number_setting_is_checked_before_an_event_runs(settings):
    service = Poller(settings)
    with pytest.raises(ConfigurationError, match=f"The {next(iter(settings))} setting") as raised:
        service.receive("poll")
    assert "polled" not in service.meta_data
    assert repr(next(iter(settings.values()))) in str(raised.value)


def test_a_service_may_bound_its_timeout_setting_itself():
    service = Poller({"interval": "5", "timeout": "30"})
    assert service._time_limit(service.receive_poll, None) == 30.0
    assert Poller({"interval": 60}).receive("poll").meta_data.polled is True


def test_a_method_can_have_a_shorter_time_limit():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded, match="0.1 s"):
        GithubIssues().receive("quick")
    assert time.monotonic() - started < 1.5


def test_the_default_time_limit_is_310_seconds():
    service = GithubIssues()
    assert service._time_limit(service.receive_slow, None) == 310.0
    assert service._time_limit(service.receive_quick, None) == 0.1


def test_the_deadline_reaches_the_http_client():
    service = GithubIssues()
    service.deadline = time.monotonic() - 1
    with pytest.raises(TimeLimitExceeded):
        service.http_get("https://api.example.com/")


def test_transport_failures_surface_as_configuration_errors():
    with pytest.raises(ConfigurationError, match="Name or service not known") as raised:
        GithubIssues().receive("broken_transport")
    assert isinstance(raised.value.original_exception, requests.exceptions.ConnectionError)


def test_a_read_timeout_is_a_remote_error():
    with pytest.raises(RemoteError, match="read timed out"):
        GithubIssues().receive("read_timeout")


def test_an_answer_that_is_not_json_is_a_remote_error_not_a_configuration_error(mocked_http):
    class Reader(Service):
        def receive_installed(self):
            self.http_get("https://api.example.com/projects").json()

    mocked_http.get("https://api.example.com/projects", body="<html>Sign in</html>")
    with pytest.raises(RemoteError, match="An answer that should be JSON is not") as raised:
        Reader().receive("installed")
    assert not isinstance(raised.value, ConfigurationError)


def test_get_integration_field_filters_by_integration_id():
    fields = json_fixture("update_feature_event.json")["feature"]["integration_fields"]
    from services.core.mash import mash

    fields = mash({"f": fields}).f
    assert GithubIssues({"integration_id": 4242}).get_integration_field(fields, "number") == "318"
    assert GithubIssues({"integration_id": "5151"}).get_integration_field(fields, "number") == "77"
    assert GithubIssues({"integration_id": 1}).get_integration_field(fields, "number") is None
    assert GithubIssues({"integration_id": 4242}).get_integration_field(None, "number") is None


def test_loggable_data_holds_only_white_listed_fields():
    service = GithubIssues({"server_url": "https://gh.example.com", "api_token": "secret"})
    assert service.loggable_data() == {"server_url": "https://gh.example.com"}


def test_the_service_name_can_be_overridden_per_instance():
    service = GithubIssues(service_name="development_proxy")
    assert service.service_name == "development_proxy"
    assert GithubIssues.service_name == "github_issues"


def test_the_api_client_is_built_from_user_data(user_data):
    api = GithubIssues(user_data).api
    assert api.base_url == "https://acme.aha.io/"
    assert api.token == user_data["aha_api_token"]


class OAuthKeeper(Service):
    schema = (string("oauth_key"),)
    secret_settings = ("oauth_token",)
    secret_meta_data = ("access_token",)

    def receive_installed(self):
        fresh = "fresh-token-from-the-token-endpoint"
        self.keep_secret(fresh)
        self.logger.info(
            f"{self.data.oauth_token} {self.meta_data.access_token} {fresh} {self.data.oauth_key}"
        )


def test_secrets_outside_password_fields_are_redacted():
    service = OAuthKeeper(
        {"oauth_token": "trello-oauth-token-1", "oauth_key": "public-key"},
        {},
        {"access_token": "kept-access-token-2"},
    )
    service.receive("installed")
    assert service.logger.messages[-1]["message"] == ("[FILTERED] [FILTERED] [FILTERED] public-key")


class Leaky(Service):
    schema = (password("api_token"),)

    def receive_installed(self):
        raise RemoteError(f"the server echoed {self.data.api_token} back")


def test_no_secret_leaves_in_an_error_text():
    with pytest.raises(RemoteError) as raised:
        Leaky({"api_token": "leaky-token-987"}).receive("installed")
    assert str(raised.value) == "the server echoed [FILTERED] back"


def test_the_end_of_an_event_is_not_a_remote_error_to_swallow():
    assert not issubclass(TimeLimitExceeded, RemoteError)


class Notifier(Service):
    schema = (string("hook_url"), string("status_page"))
    url_settings = ("status_page",)

    def receive_create_feature(self):
        self.api.create_comment("features", "ACME-1", None, "hello")


@pytest.mark.parametrize("name", ["hook_url", "status_page"])
def test_an_address_setting_is_guarded_before_the_event_sends_anything(mocked_http, name):
    settings = {
        "aha_account_domain": "acme",
        "aha_api_token": "aha-token-1234",
        "hook_url": "https://hooks.example.com/aha",
        "status_page": "https://status.example.com/",
        name: "http://10.0.0.7/hook",
    }
    with pytest.raises(InvalidUrlError, match=rf"^{name}: Refused address"):
        Notifier(settings).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_address_settings_are_the_url_named_strings_and_the_declared_ones():
    assert Notifier.address_settings() == ["hook_url", "status_page"]


def test_a_value_that_is_not_an_http_address_is_left_to_the_service(mocked_http):
    mocked_http.post("https://acme.aha.io/api/v1/features/ACME-1/comments", json={})
    settings = {"aha_account_domain": "acme", "aha_api_token": "t0k3n-aha", "hook_url": "hooks"}
    Notifier(settings).receive("create_feature")
    assert len(mocked_http.calls) == 1
