import pytest

from services.core.kits.issue_tracking import (
    checklist,
    issue_body,
    issue_labels,
    mapped_state,
    status_mapping,
    tag_list,
)
from services.core.mash import mash
from services.core.schema import switched_on
from spec.conftest import json_fixture


@pytest.fixture
def feature():
    return mash(json_fixture("create_feature_event.json")["feature"])


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [
        (True, False, True),
        ("1", False, True),
        ("true", False, True),
        (1, False, True),
        ("0", True, False),
        ("false", True, False),
        (0, True, False),
        (None, True, True),
        ("", False, False),
        ("maybe", True, True),
    ],
)
def test_switched_on_reads_booleans_as_aha_stores_them(value, default, expected):
    assert switched_on(value, default) is expected


def test_tags_and_status_labels(feature):
    assert tag_list("a, b,,c") == ["a", "b", "c"]
    assert issue_labels(feature, with_status=False) == ["finance", "export"]
    feature.tags = ["finance", "Aha!:Old status"]
    assert issue_labels(feature, with_status=True) == ["finance", "Aha!:Ready to develop"]


def test_status_mapping_and_mapped_state():
    mapping = status_mapping({"open": 11, "closed": "12", "other": "13"})
    assert mapping == {"open": "11", "closed": "12"}
    assert mapped_state(mapping, {"id": "12"}) == "closed"
    assert mapped_state(mapping, {"id": "99"}) is None
    assert mapped_state({"open": "5", "closed": "5"}, {"id": "5"}) is None
    assert status_mapping(None) == {}


def test_checklist_lists_requirements_with_their_text_indented(feature):
    feature.requirements[0].workflow_status.complete = True
    assert checklist(feature.requirements) == "\n".join(
        [
            "- [x] Export as CSV",
            "    One row per invoice line. Columns as in the attachment.",
            "    csv-sample.csv (https://cdn.aha.io/attachments/0003/csv-sample.csv?1699999003)",
            "- [ ] Bundle the PDFs in one zip & name it by quarter",
            "    Bundle the PDFs in one zip & name it by quarter. Keep it under 2 GB.",
        ]
    )


def test_issue_body_orders_its_parts(feature):
    body = issue_body(feature, with_checklist=True, footer="Parent: #7")
    parts = body.split("\n\n")
    assert parts[0].startswith("Finance teams need to export")
    assert parts[-3].startswith("mockup.png (")
    assert parts[-2] == "Created from Aha! https://acme.aha.io/features/ACME-12"
    assert parts[-1] == "Parent: #7"
    assert "- [ ] Export as CSV" in body


def test_an_issue_body_is_cut_before_its_origin_and_footer_lines():
    feature = json_fixture("create_feature_event.json")["feature"]
    feature["description"]["body"] = "<p>" + "invoice " * 200 + "</p>"
    body = issue_body(feature, with_checklist=True, footer="Parent: #7", limit=500)
    assert len(body) <= 500
    assert body.endswith(
        "… (truncated: the full text is in Aha! https://acme.aha.io/features/ACME-12)\n\n"
        "Created from Aha! https://acme.aha.io/features/ACME-12\n\nParent: #7"
    )


def test_an_issue_body_of_a_record_without_a_url_has_no_origin_line():
    feature = json_fixture("create_feature_event.json")["feature"]
    del feature["url"]
    body = issue_body(feature, with_checklist=False, footer="Parent: #7")
    assert "Created from" not in body and "None" not in body
    assert body.endswith("Parent: #7")
