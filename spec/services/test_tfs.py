"""Azure DevOps Services (``tfs``): connection, errors, installed, work items, files and the
service hook. The server's own differences are in test_tfs_on_premise.py."""

import base64
import copy
import json

import pytest
from responses import matchers

from services.azure_devops import AzureDevOpsServices
from services.azure_devops import project_data as project_data_module
from services.azure_devops.services import organization_name
from services.core import ConfigurationError, InvalidUrlError, RemoteError
from spec.conftest import json_fixture, raw_fixture, request_json

ORG = "https://dev.azure.com/acme-finance"
AHA = "https://acme.aha.io/api/v1"
CDN = "https://cdn.aha.io/attachments"
PAT = "x7kq2m9vd4hz6tcw8rbn3pyj5fgs1ela0uoq4wie7rty2uipa9sd"
USER = "maya.okafor@example.com"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PAT}".encode()).decode()
PAYMENTS = "6f2b9c1e-4d3a-4e8b-9a51-2c7d8e0f1a23"
PATCH_JSON = "application/json-patch+json"


def azure_fixture(name):
    return json_fixture(f"azure_devops/{name}")


def raw_azure(name):
    return raw_fixture(f"azure_devops/{name}")


@pytest.fixture
def settings(user_data):
    return {
        **user_data,
        "account_name": "acme-finance",
        "user_name": USER,
        "user_password": PAT,
        "project": PAYMENTS,
        "area": "Payments\\Billing",
        "feature_mapping": "Feature",
        "requirement_mapping": "User Story",
    }


def service_for(settings, payload=None, meta_data=None, cls=AzureDevOpsServices):
    return cls(settings, payload or {}, meta_data or {})


def feature_payload(*, linked=None, requirement_links=None):
    feature = copy.deepcopy(json_fixture("create_feature_event.json")["feature"])
    feature["requirements"] = feature["requirements"][:1]
    if linked:
        link(feature, linked)
    if requirement_links:
        link(feature["requirements"][0], requirement_links)
    return {"feature": feature}


def link(record, item_id):
    record["integration_fields"] = [
        {"name": "id", "value": str(item_id), "integration_id": 4242, "service_name": "tfs"},
        {"name": "url", "value": f"{ORG}/{PAYMENTS}/_workitems/edit/{item_id}"},
    ]


def version(value="7.1"):
    return matchers.query_param_matcher({"api-version": value}, strict_match=False)


def azure_calls(mocked_http, base=ORG):
    return [c for c in mocked_http.calls if c.request.url.startswith(base)]


def assert_auth(mocked_http, expected=BASIC, base=ORG):
    for call in mocked_http.calls:
        url = call.request.url
        if url.startswith(base):
            assert call.request.headers["Authorization"] == expected
        elif url.startswith(AHA):
            assert call.request.headers["Authorization"].startswith("Bearer ")
        else:  # downloads of Aha! files carry no credentials
            assert "Authorization" not in call.request.headers


def assert_no_secret(service, error=None):
    assert PAT not in str(service.logger.messages)
    if error is not None:
        assert PAT not in str(error.value)


def mock_downloads(mocked_http):
    mocked_http.get(f"{CDN}/0001/mockup.png?1699999001", body=b"\x89PNG mockup")
    mocked_http.get(f"{CDN}/0002/columns.csv?1699999002", body=b"a,b\n")
    mocked_http.get(f"{CDN}/0003/csv-sample.csv?1699999003", body=b"id,total\n")


def mock_uploads(mocked_http):
    for name in ("mockup.png", "columns.csv", "csv-sample.csv"):
        mocked_http.post(
            f"{ORG}/_apis/wit/attachments",
            match=[matchers.query_param_matcher({"fileName": name, "api-version": "7.1"})],
            json={"id": name, "url": f"{ORG}/_apis/wit/attachments/{name}"},
            status=201,
        )


def attached(name):
    return {
        "op": "add",
        "path": "/relations/-",
        "value": {
            "rel": "AttachedFile",
            "url": f"{ORG}/_apis/wit/attachments/{name}",
            "attributes": {"name": name},
        },
    }


def loaded_meta_data(settings, mocked_http):
    mock_installed(mocked_http)
    service = service_for(settings)
    service.receive("installed")
    mocked_http.calls.reset()
    return service.meta_data_to_return()


def mock_installed(mocked_http, base=ORG, api="7.1"):
    page1, page2 = azure_fixture("projects_page1.json"), azure_fixture("projects_page2.json")
    mocked_http.get(
        f"{base}/_apis/projects",
        match=[matchers.query_param_matcher({"$top": "2", "$skip": "0", "api-version": api})],
        json=page1,
    )
    mocked_http.get(
        f"{base}/_apis/projects",
        match=[matchers.query_param_matcher({"$top": "2", "$skip": "2", "api-version": api})],
        json=page2,
    )
    for project in page1["value"] + page2["value"]:
        wit = f"{base}/{project['id']}/_apis/wit"
        mocked_http.get(
            f"{wit}/workitemtypecategories",
            match=[version(api)],
            body=raw_azure("workitemtypecategories.json"),
        )
        mocked_http.get(
            f"{wit}/workitemtypes", match=[version(api)], body=raw_azure("workitemtypes.json")
        )
        mocked_http.get(
            f"{wit}/classificationnodes/areas",
            match=[matchers.query_param_matcher({"$depth": "10", "api-version": api})],
            body=raw_azure("areas.json"),
        )


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(project_data_module, "PAGE_SIZE", 2)


# --- schema and collections ------------------------------------------------------------------


def test_schema_keeps_the_names_aha_stores():
    assert (AzureDevOpsServices.service_name, AzureDevOpsServices.title) == (
        "tfs",
        "Azure DevOps Services",
    )
    assert [(f.type, f.name) for f in AzureDevOpsServices.schema] == [
        ("string", "account_name"),
        ("string", "user_name"),
        ("password", "user_password"),
        ("string", "api_url"),
        ("install_button", "install_button"),
        ("select", "project"),
        ("select", "area"),
        ("select", "feature_mapping"),
        ("internal", "feature_status_mapping"),
        ("internal", "feature_default_fields"),
        ("select", "requirement_mapping"),
        ("internal", "requirement_status_mapping"),
        ("internal", "requirement_default_fields"),
        ("callback_url", "callback_url"),
    ]
    assert "features" in AzureDevOpsServices.caption_display()
    assert "activities" in AzureDevOpsServices.caption_display("marketing_workspace")


def collection(name, meta_data, data):
    field = AzureDevOpsServices.field_by_name(name)
    return field.remote_collection(meta_data, data)


def test_collections_read_the_installed_projects(settings, mocked_http):
    from services.core.mash import mash

    meta_data = mash(loaded_meta_data(settings, mocked_http))
    data = mash(settings)
    assert collection("project", meta_data, data) == [
        ["Mobile", "d3e8f1a4-7b2c-4a9e-b6d5-0c1f2e3a4b5c"],
        ["Payments", PAYMENTS],
        ["Platform", "a0c4e7d2-19b5-4f63-8e2a-5b9d3c6f7e81"],
    ]
    assert collection("area", meta_data, data) == [
        ["Payments", "Payments"],
        ["Payments\\Billing", "Payments\\Billing"],
        ["Payments\\Billing\\Invoices", "Payments\\Billing\\Invoices"],
        ["Payments\\Payouts", "Payments\\Payouts"],
    ]
    types = [["Epic", "Epic"], ["Feature", "Feature"], ["User Story", "User Story"]]
    assert collection("feature_mapping", meta_data, data) == types
    assert collection("requirement_mapping", meta_data, data) == types


@pytest.mark.parametrize("name", ["project", "area", "feature_mapping", "requirement_mapping"])
def test_collections_are_empty_before_install(name):
    from services.core.mash import mash

    assert collection(name, mash({}), mash({"project": PAYMENTS})) == []
    assert collection(name, mash({"projects": {}}), mash({})) == []


# --- connection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "acme-finance",
        " https://dev.azure.com/acme-finance/ ",
        "dev.azure.com/acme-finance/Payments",
        "acme-finance.visualstudio.com",
        "https://acme-finance.visualstudio.com/DefaultCollection",
    ],
)
def test_an_account_name_typed_as_an_address_is_reduced_to_the_organization(typed):
    assert organization_name(typed) == "acme-finance"


@pytest.mark.parametrize("typed", ["acme finance", "-acme", "https://example.com/x", "a_b"])
def test_an_account_name_that_is_no_organization_is_refused(settings, mocked_http, typed):
    service = service_for({**settings, "account_name": typed})
    with pytest.raises(ConfigurationError, match="account_name"):
        service.receive("installed")
    assert len(mocked_http.calls) == 0


def test_an_account_name_url_goes_to_the_organization(settings, mocked_http):
    mock_installed(mocked_http)
    service_for({**settings, "account_name": "https://acme-finance.visualstudio.com/"}).receive(
        "installed"
    )
    assert {c.request.url.split("/_apis")[0].split("/6f2b")[0] for c in mocked_http.calls} >= {ORG}
    assert all(c.request.url.startswith(f"{ORG}/") for c in mocked_http.calls)


@pytest.mark.parametrize(
    ("missing", "named"), [("account_name", "account_name"), ("user_password", "user_password")]
)
def test_a_missing_connection_setting_is_named_before_any_request(
    settings, mocked_http, missing, named
):
    settings[missing] = ""
    with pytest.raises(ConfigurationError, match=named):
        service_for(settings, feature_payload()).receive("create_feature")
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("missing", ["project", "feature_mapping", "requirement_mapping"])
def test_a_missing_choice_is_named_before_any_write(settings, mocked_http, missing):
    settings[missing] = ""
    with pytest.raises(ConfigurationError, match=missing):
        service_for(settings, feature_payload()).receive("create_feature")
    assert len(mocked_http.calls) == 0


def test_an_empty_user_name_sends_the_token_alone(settings, mocked_http):
    mock_installed(mocked_http)
    service_for({**settings, "user_name": ""}).receive("installed")
    assert_auth(mocked_http, "Basic " + base64.b64encode(f":{PAT}".encode()).decode())


def test_api_url_replaces_the_cloud_address_with_its_path(settings, mocked_http, monkeypatch):
    fake = "https://azure-fake.example.net/prefix"
    mock_installed(mocked_http, base=fake)
    service_for({**settings, "api_url": f"{fake}/"}).receive("installed")
    assert all(c.request.url.startswith(f"{fake}/") for c in mocked_http.calls)
    assert_auth(mocked_http, base=fake)


@pytest.mark.parametrize("url", ["ftp://azure.example.net", "azure.example.net"])
def test_api_url_must_be_an_http_address(settings, mocked_http, url):
    with pytest.raises(ConfigurationError, match="api_url"):
        service_for({**settings, "api_url": url}).receive("installed")
    assert len(mocked_http.calls) == 0


def test_api_url_on_loopback_is_refused(settings, mocked_http):
    with pytest.raises(InvalidUrlError):
        service_for({**settings, "api_url": "https://127.0.0.1:8443"}).receive("installed")
    assert len(mocked_http.calls) == 0


# --- installed -------------------------------------------------------------------------------


def test_installed_reads_projects_types_states_fields_and_areas(settings, mocked_http):
    meta_data = loaded_meta_data(settings, mocked_http)
    projects = meta_data["projects"]
    assert list(projects) == [PAYMENTS, "a0c4e7d2-19b5-4f63-8e2a-5b9d3c6f7e81", project_3()]
    payments = projects[PAYMENTS]
    assert (payments["id"], payments["name"]) == (PAYMENTS, "Payments")
    assert payments["areas"] == [
        "Payments",
        "Payments\\Billing",
        "Payments\\Billing\\Invoices",
        "Payments\\Payouts",
    ]
    # The same types in every project: one workflow, keyed by its content.
    assert {p["workflow"] for p in projects.values()} == {payments["workflow"]}
    workflow = meta_data["workflow_sets"][payments["workflow"]]
    mappings = workflow["feature_mappings"]
    assert list(mappings) == ["Epic", "Feature", "User Story"]  # hidden types left out
    feature = mappings["Feature"]
    assert meta_data["status_sets"][feature["statuses"]] == [
        "Active",
        "Closed",
        "New",
        "Removed",
        "Resolved",
    ]
    fields = meta_data["field_sets"][feature["fields"]]
    assert [f["referenceName"] for f in fields] == [
        "Microsoft.VSTS.Common.Priority",
        "System.AreaPath",
        "System.Description",
        "System.State",
        "System.Title",
    ]
    assert all("url" not in f for f in fields)
    assert mappings["User Story"]["fields"] != feature["fields"]
    assert mappings["Epic"]["statuses"] == feature["statuses"]
    assert_auth(mocked_http)


def project_3():
    return "d3e8f1a4-7b2c-4a9e-b6d5-0c1f2e3a4b5c"


def test_installed_keys_are_the_same_on_every_install(settings, mocked_http):
    first = loaded_meta_data(settings, mocked_http)
    again = service_for(settings)
    again.receive("installed")
    assert again.meta_data_to_return()["workflow_sets"] == first["workflow_sets"]
    key = first["projects"][PAYMENTS]["workflow"]
    assert len(key) == 16 and int(key, 16) >= 0


def test_older_servers_states_come_from_transitions(settings, mocked_http):
    types = azure_fixture("workitemtypes.json")
    for work_item_type in types["value"]:
        del work_item_type["states"]
        work_item_type["fields"] = work_item_type.pop("fieldInstances")
    mocked_http.get(f"{ORG}/_apis/projects", json={"count": 1, "value": [{"id": "p", "name": "P"}]})
    mocked_http.get(
        f"{ORG}/p/_apis/wit/workitemtypecategories", body=raw_azure("workitemtypecategories.json")
    )
    mocked_http.get(f"{ORG}/p/_apis/wit/workitemtypes", json=types)
    mocked_http.get(f"{ORG}/p/_apis/wit/classificationnodes/areas", json={})
    service = service_for(settings)
    service.receive("installed")
    meta_data = service.meta_data_to_return()
    feature = meta_data["workflow_sets"][meta_data["projects"]["p"]["workflow"]][
        "feature_mappings"
    ]["Feature"]
    assert meta_data["status_sets"][feature["statuses"]] == [
        "Active",
        "Closed",
        "New",
        "Removed",
        "Resolved",
    ]
    assert meta_data["projects"]["p"]["areas"] == []
    assert all("url" not in f for f in meta_data["field_sets"][feature["fields"]])


def test_installed_stops_after_many_pages(settings, mocked_http, monkeypatch):
    monkeypatch.setattr(project_data_module, "MAX_PAGES", 1)
    monkeypatch.setattr(project_data_module, "PAGE_SIZE", 1)
    mocked_http.get(f"{ORG}/_apis/projects", json={"count": 1, "value": [{"id": "p", "name": "P"}]})
    mocked_http.get(f"{ORG}/p/_apis/wit/workitemtypecategories", json={"value": []})
    mocked_http.get(f"{ORG}/p/_apis/wit/workitemtypes", json={"value": []})
    mocked_http.get(f"{ORG}/p/_apis/wit/classificationnodes/areas", json={"name": "P"})
    service = service_for(settings)
    service.receive("installed")
    assert "Stopped listing" in str(service.logger.messages)
    assert list(service.meta_data_to_return()["projects"]) == ["p"]


@pytest.mark.parametrize(
    ("path", "answer", "said"),
    [
        ("/_apis/projects", [], "with an array where an object was expected"),
        ("/_apis/projects", {"value": ["p"]}, "with a value with an array holding a string"),
        ("/p/_apis/wit/workitemtypes", {"value": {"a": 1}}, "workitemtypes with a value with an"),
    ],
)
def test_installed_answers_of_another_shape_are_remote_errors(
    settings, mocked_http, path, answer, said
):
    mocked_http.get(f"{ORG}/_apis/projects", json={"count": 1, "value": [{"id": "p", "name": "P"}]})
    mocked_http.get(f"{ORG}/p/_apis/wit/workitemtypecategories", json={"value": []})
    mocked_http.get(f"{ORG}/p/_apis/wit/workitemtypes", json={"value": []})
    mocked_http.get(f"{ORG}/p/_apis/wit/classificationnodes/areas", json={"name": "P"})
    mocked_http.replace("GET", f"{ORG}{path}", json=answer)
    with pytest.raises(RemoteError, match=said):
        service_for(settings).receive("installed")


# --- errors ----------------------------------------------------------------------------------


def test_401_is_a_configuration_error_without_the_token(settings, mocked_http):
    mocked_http.get(f"{ORG}/_apis/projects", status=401, body="")
    service = service_for(settings)
    with pytest.raises(ConfigurationError, match="401") as error:
        service.receive("installed")
    assert_no_secret(service, error)


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (203, {"Content-Type": "text/html"}, "<html>Sign in</html>"),
        (302, {"Location": "https://app.vssps.visualstudio.com/_signin?realm=dev.azure.com"}, ""),
        (307, {"Location": "https://login.microsoftonline.com/common/oauth2/authorize"}, ""),
        (200, {"Content-Type": "text/html; charset=utf-8"}, "<html>Azure DevOps</html>"),
    ],
)
def test_a_sign_in_page_is_refused_credentials_and_never_followed(
    settings, mocked_http, status, headers, body
):
    mocked_http.get(f"{ORG}/_apis/projects", status=status, headers=headers, body=body)
    with pytest.raises(ConfigurationError, match="sign-in page.*user_password"):
        service_for(settings).receive("installed")
    assert len(mocked_http.calls) == 1


def test_a_redirected_write_is_not_re_sent_and_names_the_address_setting(settings, mocked_http):
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        status=308,
        headers={"Location": "https://dev.azure.com/acme-renamed/x"},
    )
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    with pytest.raises(ConfigurationError, match="acme-renamed.*account_name"):
        service_for(settings, payload).receive("create_feature")
    assert len(mocked_http.calls) == 1


def test_403_names_the_permission_and_quotes_azures_message(settings, mocked_http):
    mocked_http.get(f"{ORG}/_apis/projects", status=403, body=raw_azure("error_403.json"))
    with pytest.raises(RemoteError) as error:
        service_for(settings).receive("installed")
    text = str(error.value)
    assert "Work Items: Read" in text
    assert "TF401027: You need the Git 'GenericContribute' permission" in text
    assert '"$id"' not in text


def test_500_names_method_path_status_and_cuts_the_body(settings, mocked_http):
    mocked_http.get(f"{ORG}/_apis/projects", status=500, body="x" * 900)
    with pytest.raises(RemoteError) as error:
        service_for(settings).receive("installed")
    text = str(error.value)
    assert "GET /_apis/projects answered HTTP 500" in text
    assert "x" * 500 + "..." in text and "x" * 501 not in text


def unlinked_feature_alone():
    payload = feature_payload()
    payload["feature"]["requirements"] = []
    payload["feature"]["description"]["attachments"] = []
    return payload


def test_a_400_quotes_every_rule_error_whole(settings, mocked_http):
    body = azure_fixture("error_400_rules.json")
    body["customProperties"]["RuleValidationErrors"][1]["errorMessage"] += " " + "y" * 600
    mocked_http.post(f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", status=400, json=body)
    with pytest.raises(RemoteError) as error:
        service_for(settings, unlinked_feature_alone()).receive("create_feature")
    text = str(error.value)
    assert "Microsoft.VSTS.Common.ValueArea: TF401320" in text
    assert "Custom.CostCentre: TF401320" in text and "y" * 600 in text
    assert "feature_default_fields" in text


def test_a_400_without_rule_errors_quotes_the_message(settings, mocked_http):
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        status=400,
        json={"message": "TF401326: Invalid field status 'ReadOnly' for field 'System.Rev'."},
    )
    with pytest.raises(RemoteError, match="did not accept POST .*TF401326"):
        service_for(settings, unlinked_feature_alone()).receive("create_feature")


def test_an_unknown_area_is_a_configuration_error_naming_area(settings, mocked_http):
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        status=400,
        body=raw_azure("error_area.json"),
    )
    with pytest.raises(ConfigurationError, match="area.*TF401347"):
        service_for(settings, unlinked_feature_alone()).receive("create_feature")


@pytest.mark.parametrize(
    ("status", "body"), [(404, ""), (400, raw_azure("error_type.json"))], ids=["404", "VS402323"]
)
def test_an_unknown_work_item_type_is_a_configuration_error_not_a_recreate(
    settings, mocked_http, status, body
):
    settings["feature_mapping"] = "Initiative"
    mocked_http.post(f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Initiative", status=status, body=body)
    with pytest.raises(ConfigurationError, match="'Initiative' \\(feature_mapping\\)"):
        service_for(settings, unlinked_feature_alone()).receive("create_feature")
    assert len(mocked_http.calls) == 1


def test_a_created_work_item_without_an_id_is_a_remote_error(settings, mocked_http):
    mocked_http.post(f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", json={})
    with pytest.raises(RemoteError, match="without a work item id"):
        service_for(settings, unlinked_feature_alone()).receive("create_feature")


# --- features and requirements ---------------------------------------------------------------


def test_an_unlinked_feature_and_its_requirement_are_created_with_files(settings, mocked_http):
    settings["feature_default_fields"] = [
        {"field": "Microsoft.VSTS.Common.ValueArea", "value": "Business"},
        "not a mapping",
    ]
    mock_downloads(mocked_http)
    mock_uploads(mocked_http)
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        match=[version()],
        body=raw_azure("feature_created.json"),
    )
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$User%20Story",
        match=[version()],
        body=raw_azure("requirement_created.json"),
    )
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    mocked_http.post(f"{AHA}/requirements/ACME-12-1/integrations/4242/fields", json={})
    payload = feature_payload()
    service = service_for(settings, payload)
    service.receive("create_feature")

    creates = [c for c in mocked_http.calls if "/_apis/wit/workitems/$" in c.request.url]
    feature_call, requirement_call = creates
    assert feature_call.request.headers["Content-Type"] == PATCH_JSON
    assert request_json(feature_call) == [
        {"op": "add", "path": "/fields/System.Title", "value": "Bulk export of invoices"},
        {
            "op": "add",
            "path": "/fields/System.Description",
            "value": payload["feature"]["description"]["body"],
        },
        {"op": "add", "path": "/fields/System.AreaPath", "value": "Payments\\Billing"},
        {"op": "add", "path": "/fields/Microsoft.VSTS.Common.ValueArea", "value": "Business"},
        attached("mockup.png"),
        attached("columns.csv"),
    ]
    requirement_ops = request_json(requirement_call)
    assert requirement_ops[0]["value"] == "Export as CSV"
    assert {
        "op": "add",
        "path": "/relations/-",
        "value": {
            "rel": "System.LinkTypes.Hierarchy-Reverse",
            "url": f"{ORG}/_apis/wit/workItems/501",
        },
    } in requirement_ops
    assert requirement_ops[-1] == attached("csv-sample.csv")
    uploads = [c for c in mocked_http.calls if "/_apis/wit/attachments" in c.request.url]
    assert [c.request.body for c in uploads] == [b"\x89PNG mockup", b"a,b\n", b"id,total\n"]
    assert {c.request.headers["Content-Type"] for c in uploads} == {"application/octet-stream"}
    links = [request_json(c) for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert links == [
        {
            "integration_fields": [
                {"name": "id", "value": 501},
                {"name": "url", "value": f"{ORG}/{PAYMENTS}/_workitems/edit/501"},
            ]
        },
        {
            "integration_fields": [
                {"name": "id", "value": 502},
                {"name": "url", "value": f"{ORG}/{PAYMENTS}/_workitems/edit/502"},
            ]
        },
    ]
    assert_auth(mocked_http)
    assert_no_secret(service)


def test_a_long_title_is_cut_an_empty_one_named_and_an_empty_description_filled(
    settings, mocked_http
):
    settings["area"] = ""
    payload = unlinked_feature_alone()
    payload["feature"]["name"] = "Invoices " * 40
    payload["feature"]["description"]["body"] = ""
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", body=raw_azure("feature_created.json")
    )
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service_for(settings, payload).receive("create_feature")
    ops = request_json(mocked_http.calls[0])
    assert len(ops[0]["value"]) == 255 and ops[0]["value"].endswith("…")
    assert ops[1]["value"] == "<p></p>"
    assert [op["path"] for op in ops] == ["/fields/System.Title", "/fields/System.Description"]

    mocked_http.calls.reset()
    payload["feature"]["name"] = None
    service_for(settings, payload).receive("create_feature")
    assert request_json(mocked_http.calls[0])[0]["value"] == "Untitled feature"


def test_a_linked_feature_is_updated_in_one_patch_of_what_changed(settings, mocked_http):
    mock_downloads(mocked_http)
    mock_uploads(mocked_http)
    item = f"{ORG}/_apis/wit/workitems/501"
    mocked_http.get(
        item,
        match=[matchers.query_param_matcher({"$expand": "all", "api-version": "7.1"})],
        body=raw_azure("feature_expanded.json"),
    )
    mocked_http.patch(item, match=[version()], body=raw_azure("feature_created.json"))
    payload = feature_payload(linked=501)
    payload["feature"]["requirements"] = []
    service_for(settings, payload).receive("update_feature")
    patches = [c for c in mocked_http.calls if c.request.method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].request.headers["Content-Type"] == PATCH_JSON
    assert request_json(patches[0]) == [
        {"op": "replace", "path": "/fields/System.Title", "value": "Bulk export of invoices"},
        attached("columns.csv"),  # mockup.png is attached already
    ]
    assert not [c for c in mocked_http.calls if "mockup.png" in c.request.url]
    assert not [c for c in mocked_http.calls if c.request.url.startswith(AHA)]
    assert_auth(mocked_http)


def test_an_unchanged_linked_feature_sends_no_patch(settings, mocked_http):
    item = azure_fixture("feature_expanded.json")
    payload = feature_payload(linked=501)
    feature = payload["feature"]
    feature["requirements"] = []
    feature["description"]["attachments"] = feature["description"]["attachments"][:1]
    item["fields"]["System.Title"] = feature["name"]
    del item["fields"]["System.Description"]
    feature["description"]["body"] = ""
    mocked_http.get(f"{ORG}/_apis/wit/workitems/501", json=item)
    mocked_http.patch(f"{ORG}/_apis/wit/workitems/501", json=item)
    service = service_for(settings, payload)
    service.receive("update_feature")
    patch = [c for c in mocked_http.calls if c.request.method == "PATCH"]
    # A description Azure lacks is added, not replaced.
    assert request_json(patch[0]) == [
        {"op": "add", "path": "/fields/System.Description", "value": "<p></p>"}
    ]
    mocked_http.calls.reset()
    item["fields"]["System.Description"] = "<p></p>"
    mocked_http.replace("GET", f"{ORG}/_apis/wit/workitems/501", json=item)
    service = service_for(settings, payload)
    service.receive("update_feature")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]
    assert "up to date" in str(service.logger.messages)


def test_a_linked_work_item_that_is_gone_is_created_again(settings, mocked_http):
    mocked_http.get(f"{ORG}/_apis/wit/workitems/499", status=404, body=raw_azure("error_gone.json"))
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", body=raw_azure("feature_created.json")
    )
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    payload = unlinked_feature_alone()
    link(payload["feature"], 499)
    service = service_for(settings, payload)
    service.receive("update_feature")
    assert [c.request.method for c in mocked_http.calls] == ["GET", "POST", "POST"]
    assert "499 is gone" in str(service.logger.messages)


def test_a_requirement_with_a_wrong_parent_gets_its_feature_in_one_patch(settings, mocked_http):
    feature_item = azure_fixture("feature_expanded.json")
    feature_item["fields"]["System.Title"] = "Bulk export of invoices"
    feature_item["relations"] = []
    payload = feature_payload(linked=501, requirement_links=502)
    feature = payload["feature"]
    feature["description"]["attachments"] = []
    feature["requirements"][0]["description"]["attachments"] = []
    feature["requirements"][0]["description"]["body"] = "<p>One row per invoice.</p>"
    mocked_http.get(f"{ORG}/_apis/wit/workitems/501", json=feature_item)
    mocked_http.get(f"{ORG}/_apis/wit/workitems/502", body=raw_azure("requirement_expanded.json"))
    mocked_http.patch(f"{ORG}/_apis/wit/workitems/502", body=raw_azure("requirement_created.json"))
    service_for(settings, payload).receive("update_feature")
    patches = [c for c in mocked_http.calls if c.request.method == "PATCH"]
    assert [c.request.url.split("?")[0] for c in patches] == [f"{ORG}/_apis/wit/workitems/502"]
    assert request_json(patches[0]) == [
        {"op": "remove", "path": "/relations/1"},
        {
            "op": "add",
            "path": "/relations/-",
            "value": {
                "rel": "System.LinkTypes.Hierarchy-Reverse",
                "url": f"{ORG}/_apis/wit/workItems/501",
            },
        },
    ]


def test_a_requirement_under_the_right_parent_keeps_it(settings, mocked_http):
    item = azure_fixture("requirement_expanded.json")
    item["relations"][1]["url"] = f"{ORG}/_apis/wit/workItems/501"
    mocked_http.get(f"{ORG}/_apis/wit/workitems/502", json=item)
    requirement = feature_payload(requirement_links=502)["feature"]["requirements"][0]
    requirement["description"] = {"body": "<p>One row per invoice.</p>", "attachments": []}
    requirement["feature"] = {
        "integration_fields": feature_payload(linked=501)["feature"]["integration_fields"]
    }
    service_for(settings, {"requirement": requirement}).receive("update_requirement")
    assert [c.request.method for c in mocked_http.calls] == ["GET"]


def test_a_requirement_event_sends_an_unlinked_feature_first(settings, mocked_http):
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", body=raw_azure("feature_created.json")
    )
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$User%20Story",
        body=raw_azure("requirement_created.json"),
    )
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    mocked_http.post(f"{AHA}/requirements/ACME-12-1/integrations/4242/fields", json={})
    feature = unlinked_feature_alone()["feature"]
    requirement = feature_payload()["feature"]["requirements"][0]
    requirement["description"]["attachments"] = []
    requirement["feature"] = feature
    service_for(settings, {"requirement": requirement}).receive("create_requirement")
    posts = [c.request.url.split("?")[0] for c in azure_calls(mocked_http)]
    assert posts == [
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature",
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$User%20Story",
    ]
    parent = request_json(azure_calls(mocked_http)[1])[-1]
    assert parent["value"]["url"] == f"{ORG}/_apis/wit/workItems/501"


def test_files_that_cannot_be_sent_are_warnings(settings, mocked_http):
    payload = unlinked_feature_alone()
    payload["feature"]["description"]["attachments"] = feature_payload()["feature"]["description"][
        "attachments"
    ]
    mocked_http.get(f"{CDN}/0001/mockup.png?1699999001", status=404)
    mocked_http.get(f"{CDN}/0002/columns.csv?1699999002", body=b"a,b\n")
    mocked_http.post(f"{ORG}/_apis/wit/attachments", status=413, json={"message": "too large"})
    mocked_http.post(
        f"{ORG}/{PAYMENTS}/_apis/wit/workitems/$Feature", body=raw_azure("feature_created.json")
    )
    mocked_http.post(f"{AHA}/features/ACME-12/integrations/4242/fields", json={})
    service = service_for(settings, payload)
    service.receive("create_feature")
    created = next(c for c in mocked_http.calls if "$Feature" in c.request.url)
    assert all(op["path"].startswith("/fields/") for op in request_json(created))
    messages = str(service.logger.messages)
    assert "mockup.png was not sent" in messages and "columns.csv is larger" in messages


def test_an_upload_answered_without_a_url_is_a_remote_error(settings, mocked_http):
    payload = unlinked_feature_alone()
    payload["feature"]["attachments"] = feature_payload()["feature"]["description"]["attachments"][
        1:
    ]
    mocked_http.get(f"{CDN}/0002/columns.csv?1699999002", body=b"a,b\n")
    mocked_http.post(f"{ORG}/_apis/wit/attachments", status=201, json={"id": "x"})
    with pytest.raises(RemoteError, match="without a url"):
        service_for(settings, payload).receive("create_feature")
    mocked_http.replace("POST", f"{ORG}/_apis/wit/attachments", status=201, json=["x"])
    with pytest.raises(RemoteError, match="with an array holding a string where an object"):
        service_for(settings, payload).receive("create_feature")


# --- service hook ----------------------------------------------------------------------------

SEARCH = f"{AHA}/integrations/4242/fields/id/value/502"


def hook_settings(settings):
    return {
        **settings,
        "requirement_status_mapping": {"Active": "7000000000000000203", "New": "70001"},
    }


def test_the_hook_moves_name_description_and_status_of_the_linked_requirement(
    settings, mocked_http
):
    mocked_http.get(SEARCH, body=raw_azure("search_requirement.json"))
    mocked_http.get(
        f"{ORG}/_apis/wit/workitems/502", match=[version()], body=raw_azure("requirement_read.json")
    )
    mocked_http.put(f"{AHA}/requirements/ACME-12-1", json={})
    service = service_for(hook_settings(settings), azure_fixture("webhook_workitem_updated.json"))
    service.receive("webhook")
    put = next(c for c in mocked_http.calls if c.request.method == "PUT")
    assert request_json(put) == {
        "requirement": {
            "name": "Export invoices as CSV",
            "description": "<p>One row per invoice, with totals.</p>",
            "workflow_status": "7000000000000000203",
        }
    }
    assert_auth(mocked_http)


def test_the_hook_under_webhook_as_text_with_nothing_new_puts_nothing(settings, mocked_http):
    item = azure_fixture("requirement_read.json")
    item["fields"].update(
        {
            "System.Title": "Export as CSV",
            "System.Description": "<p>One row per invoice.</p>",
            "System.State": "Resolved",
        }
    )
    mocked_http.get(SEARCH, body=raw_azure("search_requirement.json"))
    mocked_http.get(f"{ORG}/_apis/wit/workitems/502", json=item)
    hook = json.dumps(azure_fixture("webhook_workitem_updated.json"))
    service = service_for(hook_settings(settings), {"webhook": hook})
    service.receive("webhook")
    assert [c.request.method for c in mocked_http.calls] == ["GET", "GET"]
    assert "Resolved is mapped to no Aha! status" in str(service.logger.messages)


def test_the_hook_keeps_a_title_azure_holds_cut(settings, mocked_http):
    search = azure_fixture("search_requirement.json")
    search["records"][0]["requirement"]["name"] = "Export " * 60
    item = azure_fixture("requirement_read.json")
    item["fields"]["System.Title"] = service_for(settings).fit_title("System.Title", "Export " * 60)
    item["fields"]["System.Description"] = "<p></p>"
    search["records"][0]["requirement"]["description"] = {"body": ""}
    item["fields"]["System.State"] = "New"
    search["records"][0]["requirement"]["workflow_status"]["id"] = "70001"
    mocked_http.get(SEARCH, json=search)
    mocked_http.get(f"{ORG}/_apis/wit/workitems/502", json=item)
    service_for(hook_settings(settings), azure_fixture("webhook_workitem_updated.json")).receive(
        "webhook"
    )
    assert [c.request.method for c in mocked_http.calls] == ["GET", "GET"]


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (azure_fixture("webhook_test_event.json"), "test event"),
        (
            {**azure_fixture("webhook_workitem_updated.json"), "eventType": "workitem.created"},
            "workitem.created",
        ),
        ({"webhook": "{not json"}, "unreadable"),
        ({"webhook": {"eventType": "workitem.updated", "resource": {}}}, "names no work item"),
    ],
)
def test_the_hook_ignores_tests_other_events_and_bodies_without_an_item(
    settings, mocked_http, payload, said
):
    service = service_for(hook_settings(settings), payload)
    service.receive("webhook")
    assert len(mocked_http.calls) == 0
    assert said in str(service.logger.messages)


def test_the_hook_for_an_unlinked_item_warns_and_asks_nothing_of_azure(settings, mocked_http):
    mocked_http.get(SEARCH, json={"records": []})
    service = service_for(hook_settings(settings), azure_fixture("webhook_workitem_updated.json"))
    service.receive("webhook")
    assert "502 is not linked" in str(service.logger.messages)
    assert azure_calls(mocked_http) == []


def test_the_hook_for_an_item_linked_twice_changes_nothing(settings, mocked_http):
    record = azure_fixture("search_requirement.json")["records"][0]
    mocked_http.get(SEARCH, json={"records": [record, record]})
    service = service_for(hook_settings(settings), azure_fixture("webhook_workitem_updated.json"))
    service.receive("webhook")
    assert "none was changed" in str(service.logger.messages)
    assert azure_calls(mocked_http) == []


def test_the_hook_for_an_item_gone_from_azure_warns(settings, mocked_http):
    mocked_http.get(SEARCH, body=raw_azure("search_requirement.json"))
    mocked_http.get(f"{ORG}/_apis/wit/workitems/502", status=404, body=raw_azure("error_gone.json"))
    service = service_for(hook_settings(settings), azure_fixture("webhook_workitem_updated.json"))
    service.receive("webhook")
    assert "502 is gone" in str(service.logger.messages)
    assert [c.request.method for c in mocked_http.calls] == ["GET", "GET"]
