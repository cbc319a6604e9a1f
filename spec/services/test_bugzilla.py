import base64
import re

import pytest

from services.bugzilla import Bugzilla
from services.bugzilla.products import bug_defaults
from services.core import ConfigurationError, RemoteError
from spec.conftest import json_fixture, raw_fixture, request_json

SERVER = "https://bugs.example.com/bugzilla"
REST = f"{SERVER}/rest"
AHA = "https://acme.aha.io/api/v1"
API_KEY = "bz-key-7Qw3Er9Ty1Ui5Op2"
CDN = "https://cdn.aha.io/attachments"
MOCKUP, COLUMNS, SAMPLE = (
    f"{CDN}/0001/mockup.png?1699999001",
    f"{CDN}/0002/columns.csv?1699999002",
    f"{CDN}/0003/csv-sample.csv?1699999003",
)
PRODUCTS = json_fixture("bugzilla/products.json")["products"]
DEFAULTS = {
    "Invoicing": {
        "version": "2026.1",
        "bug_severity": "enhancement",
        "rep_platform": "All",
        "op_sys": "All",
        "priority": "--",
    }
}
INSTALLED = {
    "bugzilla_auth": "header",
    "bugzilla_rest_path": "/rest",
    "bugzilla_version": "5.2",
    "products": PRODUCTS,
    "defaults": DEFAULTS,
}


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "server_url": f"{SERVER}/",
        "api_key": API_KEY,
        "product": "2",
        "component": "21",
    }


def bz(name):
    return raw_fixture(f"bugzilla/{name}")


def fields_url(kind, reference):
    return f"{AHA}/{kind}/{reference}/integrations/4242/fields"


def link(record, value):
    record["integration_fields"] = [
        {"name": "id", "value": value, "integration_id": 4242, "service_name": "bugzilla"}
    ]


def requests_made(mocked_http):
    return [(c.request.method, c.request.url) for c in mocked_http.calls]


def assert_header_auth(mocked_http):
    """The key travels in Bugzilla's header to Bugzilla only, and never in a URL."""
    for call in mocked_http.calls:
        assert API_KEY not in call.request.url
        if call.request.url.startswith(SERVER) and not call.request.url.endswith("/version"):
            assert call.request.headers["X-BUGZILLA-API-KEY"] == API_KEY
        else:
            assert "X-BUGZILLA-API-KEY" not in call.request.headers


def assert_no_secret(service, error=None):
    assert API_KEY not in str(service.logger.messages)
    if error is not None:
        assert API_KEY not in str(error.value)


def mock_downloads(mocked_http):
    for url, content in ((MOCKUP, b"\x89PNG-mockup"), (COLUMNS, b"id,total\n"), (SAMPLE, b"a,b\n")):
        mocked_http.get(url, body=content, content_type="application/octet-stream")


# --- schema ---------------------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (Bugzilla.service_name, Bugzilla.title) == ("bugzilla", "Bugzilla")
    assert [(f.type, f.name) for f in Bugzilla.schema] == [
        ("string", "server_url"),
        ("password", "api_key"),
        ("install_button", "install_button"),
        ("select", "product"),
        ("select", "component"),
    ]
    assert Bugzilla.caption_display("marketing_workspace").startswith("Send activities")


def test_selects_list_products_and_the_chosen_products_components_by_name():
    product = Bugzilla.field_by_name("product").remote_collection
    component = Bugzilla.field_by_name("component").remote_collection
    meta_data = {"products": PRODUCTS}
    assert product(meta_data, {}) == [["Billing portal", 5], ["Invoicing", 2]]
    assert component(meta_data, {"product": "2"}) == [["API", 20], ["Exports", 21]]
    assert component(meta_data, {}) == []
    assert product({}, {}) == [] and component({}, {"product": "2"}) == []


def test_defaults_take_the_highest_active_value_and_the_products_own_version():
    fields = json_fixture("bugzilla/fields.json")["fields"]
    assert bug_defaults(fields, ["Invoicing", "Billing portal", "Empty"]) == {
        **DEFAULTS,
        "Billing portal": {**DEFAULTS["Invoicing"], "version": "unspecified"},
        "Empty": {key: value for key, value in DEFAULTS["Invoicing"].items() if key != "version"},
    }


# --- installed and the credential probe -----------------------------------------------------


def mock_products(mocked_http, base=REST):
    mocked_http.get(f"{base}/product_enterable", body=bz("product_enterable.json"))
    mocked_http.get(
        f"{base}/product?ids=2&ids=5&include_fields=id%2Cname%2Ccomponents.id%2Ccomponents.name",
        body=bz("products.json"),
    )
    mocked_http.get(f"{base}/field/bug", body=bz("fields.json"))


def test_installed_probes_the_header_and_loads_products_and_defaults(settings, mocked_http):
    mocked_http.get(f"{REST}/version", body=bz("version.json"))
    mocked_http.get(f"{REST}/whoami", body=bz("whoami.json"))
    mock_products(mocked_http)
    service = Bugzilla(settings, {}, {"kept": True})
    service.receive("installed")
    assert [url for _, url in requests_made(mocked_http)] == [
        f"{REST}/version",
        f"{REST}/whoami",
        f"{REST}/product_enterable",
        f"{REST}/product?ids=2&ids=5&include_fields=id%2Cname%2Ccomponents.id%2Ccomponents.name",
        f"{REST}/field/bug",
    ]
    assert_header_auth(mocked_http)
    billing = {**DEFAULTS["Invoicing"], "version": "unspecified"}
    assert service.meta_data_to_return() == {
        "kept": True,
        **INSTALLED,
        "defaults": {**DEFAULTS, "Billing portal": billing},
    }
    assert_no_secret(service)


def test_an_ignored_header_is_anonymous_so_the_bearer_form_is_tried(settings, mocked_http):
    mocked_http.get(f"{REST}/version", body=bz("version.json"))
    mocked_http.get(f"{REST}/whoami", status=401, body=bz("error_not_logged_in.json"))
    mocked_http.get(f"{REST}/whoami", body=bz("whoami.json"))
    mock_products(mocked_http)
    service = Bugzilla(settings).receive("installed")
    assert service.meta_data.bugzilla_auth == "bearer"
    first, second = mocked_http.calls[1].request, mocked_http.calls[2].request
    assert first.headers["X-BUGZILLA-API-KEY"] == API_KEY
    assert "Authorization" not in first.headers
    assert second.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-BUGZILLA-API-KEY" not in second.headers
    assert mocked_http.calls[3].request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_without_whoami_the_parameter_form_is_kept_and_redacted(settings, mocked_http):
    mocked_http.get(f"{REST}/version", json={"version": "5.0.4"})
    mocked_http.get(f"{REST}/whoami", status=400, body=bz("error_unknown_method.json"))
    key = f"Bugzilla_api_key={API_KEY}"
    mocked_http.get(f"{REST}/product_enterable?{key}", body=bz("product_enterable.json"))
    mocked_http.get(
        f"{REST}/product?ids=2&ids=5&include_fields=id%2Cname%2Ccomponents.id%2Ccomponents.name"
        f"&{key}",
        body=bz("products.json"),
    )
    mocked_http.get(f"{REST}/field/bug?{key}", body=bz("fields.json"))
    service = Bugzilla(settings).receive("installed")
    assert service.meta_data.bugzilla_auth == "param"
    assert service.meta_data.bugzilla_version == "5.0.4"
    for call in mocked_http.calls[2:]:
        assert "X-BUGZILLA-API-KEY" not in call.request.headers
    assert_no_secret(service)
    assert "Bugzilla_api_key=" in str(service.logger.messages)


def test_a_bugzilla_without_url_rewriting_is_reached_under_rest_cgi(settings, mocked_http):
    mocked_http.get(f"{REST}/version", status=404, body="Not Found")
    mocked_http.get(f"{SERVER}/rest.cgi/version", body=bz("version.json"))
    mocked_http.get(f"{SERVER}/rest.cgi/whoami", body=bz("whoami.json"))
    mock_products(mocked_http, base=f"{SERVER}/rest.cgi")
    service = Bugzilla(settings).receive("installed")
    assert service.meta_data.bugzilla_rest_path == "/rest.cgi"
    assert len(service.meta_data.products) == 2


def test_no_rest_api_at_the_address_names_server_url(settings, mocked_http):
    mocked_http.get(f"{REST}/version", status=404)
    mocked_http.get(f"{SERVER}/rest.cgi/version", body="<html>Welcome</html>")
    with pytest.raises(ConfigurationError, match=r"\(server_url\)"):
        Bugzilla(settings).receive("installed")
    assert len(mocked_http.calls) == 2


def test_a_refused_key_is_a_configuration_error_without_the_key(settings, mocked_http):
    mocked_http.get(f"{REST}/version", body=bz("version.json"))
    mocked_http.get(f"{REST}/whoami", status=400, body=bz("error_invalid_api_key.json"))
    service = Bugzilla(settings)
    with pytest.raises(ConfigurationError, match="API key you specified is invalid") as raised:
        service.receive("installed")
    assert len(mocked_http.calls) == 2
    assert_no_secret(service, raised)


def test_a_key_no_form_logs_in_with_is_a_configuration_error(settings, mocked_http):
    mocked_http.get(f"{REST}/version", body=bz("version.json"))
    for _ in range(3):
        mocked_http.get(f"{REST}/whoami", status=401, body=bz("error_not_logged_in.json"))
    with pytest.raises(ConfigurationError, match=r"rejected the credentials \(401\)"):
        Bugzilla(settings).receive("installed")
    assert API_KEY in mocked_http.calls[3].request.url  # the parameter form, as a last try


def test_a_server_error_while_probing_is_a_remote_error(settings, mocked_http):
    mocked_http.get(f"{REST}/version", body=bz("version.json"))
    mocked_http.get(f"{REST}/whoami", status=500, body="x" * 2000)
    with pytest.raises(RemoteError, match=r"GET /rest/whoami answered HTTP 500") as raised:
        Bugzilla(settings).receive("installed")
    assert len(str(raised.value)) < 600


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("server_url", "(server_url)"),
        ("api_key", "(api_key)"),
    ],
)
def test_missing_connection_settings_send_nothing(settings, mocked_http, missing, message):
    del settings[missing]
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Bugzilla(settings).receive("installed")
    assert len(mocked_http.calls) == 0


# --- features and requirements --------------------------------------------------------------


def feature_event():
    return json_fixture("create_feature_event.json")


def new_bug(summary, description):
    return {
        "product": "Invoicing",
        "component": "Exports",
        "summary": summary,
        "description": description,
        "version": "2026.1",
        "severity": "enhancement",
        "platform": "All",
        "op_sys": "All",
        "priority": "--",
    }


def attachment_body(bug_id, name, content_type, content):
    return {
        "ids": [bug_id],
        "file_name": name,
        "summary": name,
        "content_type": content_type,
        "data": base64.b64encode(content).decode(),
    }


def test_create_feature_files_bugs_that_block_the_features_bug(settings, mocked_http):
    for bug_id in (1201, 1202, 1203):
        mocked_http.post(f"{REST}/bug", json={"id": bug_id})
    for reference, kind in (("ACME-12", "features"), ("ACME-12-1", "requirements")):
        mocked_http.post(fields_url(kind, reference), json={})
    mocked_http.post(fields_url("requirements", "ACME-12-2"), json={})
    mock_downloads(mocked_http)
    for bug_id in (1201, 1202):
        mocked_http.post(f"{REST}/bug/{bug_id}/attachment", body=bz("attachment_created.json"))
    mocked_http.put(f"{REST}/bug/1201", body=bz("bug_updated.json"))
    service = Bugzilla(settings, feature_event(), INSTALLED)
    service.receive("create_feature")
    assert requests_made(mocked_http) == [
        ("POST", f"{REST}/bug"),
        ("POST", fields_url("features", "ACME-12")),
        ("GET", MOCKUP),
        ("POST", f"{REST}/bug/1201/attachment"),
        ("GET", COLUMNS),
        ("POST", f"{REST}/bug/1201/attachment"),
        ("POST", f"{REST}/bug"),
        ("POST", fields_url("requirements", "ACME-12-1")),
        ("GET", SAMPLE),
        ("POST", f"{REST}/bug/1202/attachment"),
        ("POST", f"{REST}/bug"),
        ("POST", fields_url("requirements", "ACME-12-2")),
        ("PUT", f"{REST}/bug/1201"),
    ]
    assert_header_auth(mocked_http)
    calls = mocked_http.calls
    feature_bug = request_json(calls[0])
    assert feature_bug == new_bug("Bulk export of invoices", feature_bug["description"])
    assert feature_bug["description"].startswith(
        "Finance teams need to export **all invoices** of a quarter at once."
    )
    assert feature_bug["description"].endswith(
        "Created from Aha! https://acme.aha.io/features/ACME-12"
    )
    assert request_json(calls[1]) == {
        "integration_fields": [
            {"name": "id", "value": 1201},
            {"name": "url", "value": f"{SERVER}/show_bug.cgi?id=1201"},
        ]
    }
    assert request_json(calls[3]) == attachment_body(
        1201, "mockup.png", "image/png", b"\x89PNG-mockup"
    )
    assert request_json(calls[5]) == attachment_body(1201, "columns.csv", "text/csv", b"id,total\n")
    assert request_json(calls[9]) == attachment_body(1202, "csv-sample.csv", "text/csv", b"a,b\n")
    assert request_json(calls[10])["summary"] == "Bundle the PDFs in one zip & name it by quarter"
    assert request_json(calls[12]) == {"depends_on": {"add": [1202, 1203]}}
    assert service.meta_data_to_return() == INSTALLED
    assert_no_secret(service)


def update_event():
    payload = feature_event()
    link(payload["feature"], "1201")
    link(payload["feature"]["requirements"][0], "1202")
    payload["feature"]["requirements"] = payload["feature"]["requirements"][:1]
    payload["feature"]["description"]["attachments"] = payload["feature"]["description"][
        "attachments"
    ][:1]
    return payload


def test_a_linked_feature_updates_only_the_summary_and_sends_missing_files(settings, mocked_http):
    payload = update_event()
    payload["feature"]["description"]["attachments"].append(
        {"file_name": "columns.csv", "download_url": COLUMNS, "content_type": "text/csv"}
    )
    mocked_http.put(f"{REST}/bug/1201", body=bz("bug_updated.json"))
    mocked_http.get(f"{REST}/bug/1201/attachment?exclude_fields=data", body=bz("attachments.json"))
    mocked_http.put(f"{REST}/bug/1202", json={"bugs": []})
    mocked_http.get(f"{REST}/bug/1202/attachment?exclude_fields=data", json={"bugs": {"1202": []}})
    mock_downloads(mocked_http)
    mocked_http.post(f"{REST}/bug/1201/attachment", body=bz("attachment_created.json"))
    mocked_http.post(f"{REST}/bug/1202/attachment", body=bz("attachment_created.json"))
    service = Bugzilla(settings, payload, INSTALLED)
    service.receive("update_feature")
    assert requests_made(mocked_http) == [
        ("PUT", f"{REST}/bug/1201"),
        ("GET", f"{REST}/bug/1201/attachment?exclude_fields=data"),
        ("GET", COLUMNS),
        ("POST", f"{REST}/bug/1201/attachment"),
        ("PUT", f"{REST}/bug/1202"),
        ("GET", f"{REST}/bug/1202/attachment?exclude_fields=data"),
        ("GET", SAMPLE),
        ("POST", f"{REST}/bug/1202/attachment"),
    ]
    assert request_json(mocked_http.calls[0]) == {"summary": "Bulk export of invoices"}
    assert request_json(mocked_http.calls[4]) == {"summary": "Export as CSV"}
    assert request_json(mocked_http.calls[3])["file_name"] == "columns.csv"
    assert_header_auth(mocked_http)


def test_a_new_requirement_of_a_linked_feature_is_added_to_its_blockers(settings, mocked_http):
    payload = update_event()
    payload["feature"]["description"]["attachments"] = []
    payload["feature"]["requirements"][0]["integration_fields"] = []
    payload["feature"]["requirements"][0]["description"]["attachments"] = []
    mocked_http.put(f"{REST}/bug/1201", body=bz("bug_updated.json"))
    mocked_http.post(f"{REST}/bug", json={"id": 1207})
    mocked_http.post(fields_url("requirements", "ACME-12-1"), json={})
    service = Bugzilla(settings, payload, INSTALLED)
    service.receive("update_feature")
    assert requests_made(mocked_http)[-1] == ("PUT", f"{REST}/bug/1201")
    assert request_json(mocked_http.calls[-1]) == {"depends_on": {"add": [1207]}}


def test_a_linked_bug_that_is_gone_is_filed_again(settings, mocked_http):
    payload = update_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    mocked_http.put(f"{REST}/bug/1201", status=404, body=bz("error_bug_gone.json"))
    mocked_http.post(f"{REST}/bug", json={"id": 1210})
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    service = Bugzilla(settings, payload, INSTALLED)
    service.receive("update_feature")
    assert [m for _, m in requests_made(mocked_http)][-2:] == [
        f"{REST}/bug",
        fields_url("features", "ACME-12"),
    ]
    assert "1201 is gone from Bugzilla" in str(service.logger.messages)


def test_an_integration_from_before_the_probe_is_probed_once_and_keeps_the_form(
    settings, mocked_http
):
    payload = update_event()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    meta_data = {"products": PRODUCTS, "defaults": DEFAULTS}
    mocked_http.get(f"{REST}/version", json={"version": "5.0.4"})
    mocked_http.get(f"{REST}/whoami", status=404, body="Not Found")
    mocked_http.put(f"{REST}/bug/1201", body=bz("bug_updated.json"))
    service = Bugzilla(settings, payload, meta_data)
    service.receive("update_feature")
    put = mocked_http.calls[-1].request
    assert (put.method, put.url) == ("PUT", f"{REST}/bug/1201")
    assert request_json(mocked_http.calls[-1]) == {
        "summary": "Bulk export of invoices",
        "Bugzilla_api_key": API_KEY,
    }
    assert service.meta_data_to_return() == {
        **meta_data,
        "bugzilla_auth": "param",
        "bugzilla_rest_path": "/rest",
        "bugzilla_version": "5.0.4",
    }
    assert_no_secret(service)


def test_a_missing_permission_is_a_remote_error_naming_it(settings, mocked_http):
    payload = update_event()
    mocked_http.put(f"{REST}/bug/1201", status=401, body=bz("error_edit_denied.json"))
    service = Bugzilla(settings, payload, INSTALLED)
    with pytest.raises(RemoteError) as raised:
        service.receive("update_feature")
    assert not isinstance(raised.value, ConfigurationError)
    assert "refused PUT /rest/bug/1201 (401): the account needs the edit bugs" in str(raised.value)


def test_a_logged_out_answer_to_a_write_is_a_configuration_error(settings, mocked_http):
    mocked_http.post(f"{REST}/bug", status=401, body=bz("error_not_logged_in.json"))
    service = Bugzilla(settings, feature_event(), INSTALLED)
    with pytest.raises(ConfigurationError, match="You must log in"):
        service.receive("create_feature")


def test_an_error_served_with_a_200_is_a_remote_error(settings, mocked_http):
    mocked_http.post(
        f"{REST}/bug",
        json={"error": True, "code": 51, "message": "There is no component named 'Exports'."},
    )
    with pytest.raises(RemoteError, match="POST /rest/bug answered HTTP 200.*no component"):
        Bugzilla(settings, feature_event(), INSTALLED).receive("create_feature")


def test_a_created_bug_without_an_id_is_a_remote_error(settings, mocked_http):
    mocked_http.post(f"{REST}/bug", json={})
    with pytest.raises(RemoteError, match="without a bug id"):
        Bugzilla(settings, feature_event(), INSTALLED).receive("create_feature")


@pytest.mark.parametrize("missing", ["product", "component"])
def test_a_missing_product_or_component_sends_nothing(settings, mocked_http, missing):
    del settings[missing]
    with pytest.raises(ConfigurationError, match=f"The Bugzilla {missing} is not set"):
        Bugzilla(settings, feature_event(), INSTALLED).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_products_not_loaded_ask_for_test_connection(settings, mocked_http):
    with pytest.raises(ConfigurationError, match="press Test connection"):
        Bugzilla(settings, feature_event(), {}).receive("create_feature")
    settings["component"] = "50"
    with pytest.raises(ConfigurationError, match="component 50 is not one of Invoicing's"):
        Bugzilla(settings, feature_event(), INSTALLED).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_files_that_are_too_large_or_unreachable_are_warnings(settings, mocked_http):
    payload = feature_event()
    payload["feature"]["requirements"] = []
    mocked_http.post(f"{REST}/bug", json={"id": 1201})
    mocked_http.post(fields_url("features", "ACME-12"), json={})
    mocked_http.get(MOCKUP, status=404)
    mocked_http.get(COLUMNS, body=b"id,total\n")
    mocked_http.post(
        f"{REST}/bug/1201/attachment", status=400, body=bz("error_attachment_too_large.json")
    )
    service = Bugzilla(settings, payload, INSTALLED)
    service.receive("create_feature")
    warnings = [m["message"] for m in service.logger.messages if m["severity"] == 2]
    assert len(warnings) == 2
    assert warnings[0].startswith("The file mockup.png was not sent to Bugzilla: ")
    assert "columns.csv was not attached" in warnings[1] and "too large" in warnings[1]
