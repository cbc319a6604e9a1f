"""Every service doc's settings table names exactly the service's schema fields.

The table under ``## Settings`` in ``docs/<service>.md`` is checked against the
schema (see ``services.core.docs``): a field the schema gains, loses or renames,
a type changed, a setting made secret, shows here, for every service of this
repository, those added later included.
"""

from pathlib import Path

import pytest

from services.core import Service, install_button, internal, password, select, string
from services.core.docs import settings_table, settings_table_problems
from services.core.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
SERVICES = list(load_registry(use_entry_points=False))
WITH_SETTINGS = [service for service in SERVICES if service.schema]


def doc_of(service: type[Service]) -> str:
    return (ROOT / "docs" / f"{service.service_name}.md").read_text()


class Pong(Service):
    service_name = "pong"
    schema = (
        string("server_url", label_name="Server URL", description="Where Pong | answers."),
        password("api_key"),
        select("board", collection=[["Main", "1"]], description="The board\nof new cards."),
        string("webhook_secret"),
        internal("status_mapping"),
        install_button(),
    )
    secret_settings = ("webhook_secret", "oauth_token")


PONG_TABLE = """\
| Setting | Label | Type | Secret | Description |
| --- | --- | --- | --- | --- |
| `server_url` | Server URL | string | | Where Pong \\| answers. |
| `api_key` | Api key | password | yes | |
| `board` | Board | select | | The board of new cards. |
| `webhook_secret` | Webhook secret | string | yes | |
| `status_mapping` | Status mapping | internal | | (internal, kept by Aha!) |
| `install_button` | Install button | install_button | | |
"""


def pong_doc(table: str = PONG_TABLE) -> str:
    return f"# Pong\n\nPong plays back.\n\n## Settings\n\n{table}\nMore prose.\n\n## Events\n"


def replace_row(table: str, name: str, new_row: str) -> str:
    return "\n".join(
        new_row if line.startswith(f"| `{name}` |") else line for line in table.splitlines()
    )


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.service_name)
def test_every_doc_settings_table_matches_the_schema(service):
    assert settings_table_problems(service, doc_of(service)) == []


@pytest.mark.parametrize("service", WITH_SETTINGS, ids=lambda s: s.service_name)
def test_a_doc_missing_a_row_fails(service):
    name = service.schema[0].name
    lines = doc_of(service).splitlines()
    doc = "\n".join(line for line in lines if not line.startswith(f"| `{name}` |"))
    problems = settings_table_problems(service, doc)
    assert problems == [f"`{name}` is in the schema but not in the table"]


@pytest.mark.parametrize("service", WITH_SETTINGS, ids=lambda s: s.service_name)
def test_a_doc_naming_an_unknown_setting_fails(service):
    first = f"| `{service.schema[0].name}` |"
    extra = "| `no_such_setting` | Nothing | string | | Not declared. |"
    doc = "\n".join(
        f"{line}\n{extra}" if line.startswith(first) else line
        for line in doc_of(service).splitlines()
    )
    problems = settings_table_problems(service, doc)
    assert problems == ["`no_such_setting` is in the table but not in the schema"]


def test_the_table_is_rendered_from_the_schema():
    assert settings_table(Pong) == PONG_TABLE


def test_a_rendered_table_passes_its_own_check():
    assert settings_table_problems(Pong, pong_doc(settings_table(Pong))) == []


def test_the_doc_keeps_its_own_labels_and_prose():
    table = replace_row(
        PONG_TABLE,
        "install_button",
        "| `install_button` | Test connection | install_button | | Loads the boards. |",
    )
    assert settings_table_problems(Pong, pong_doc(table)) == []


def test_a_wrong_type_fails():
    table = replace_row(PONG_TABLE, "board", "| `board` | Board | string | | The board. |")
    assert settings_table_problems(Pong, pong_doc(table)) == [
        "`board` is a select in the schema, not a string"
    ]


def test_a_secret_shown_as_plain_fails_and_the_reverse():
    table = replace_row(PONG_TABLE, "api_key", "| `api_key` | API key | password | | |")
    table = replace_row(table, "board", "| `board` | Board | select | yes | |")
    assert settings_table_problems(Pong, pong_doc(table)) == [
        "`api_key` is secret in the schema",
        "`board` is not secret in the schema",
    ]


def test_a_secret_cell_other_than_yes_or_empty_fails():
    table = replace_row(PONG_TABLE, "api_key", "| `api_key` | API key | password | no | |")
    assert settings_table_problems(Pong, pong_doc(table)) == [
        "`api_key`: the Secret cell is 'yes' or empty"
    ]


def test_a_label_the_schema_declares_is_held_to_it():
    table = replace_row(PONG_TABLE, "server_url", "| `server_url` | Server | string | | |")
    assert settings_table_problems(Pong, pong_doc(table)) == [
        "`server_url` is labelled 'Server URL' in the schema, not 'Server'"
    ]


def test_a_row_listed_twice_fails():
    table = PONG_TABLE + "| `board` | Board | select | | Again. |\n"
    assert settings_table_problems(Pong, pong_doc(table)) == ["`board` is listed twice"]


def test_a_row_without_a_name_in_backticks_fails():
    table = replace_row(PONG_TABLE, "board", "| Board | board | select | | |")
    assert settings_table_problems(Pong, pong_doc(table)) == [
        "row 3 is not | `name` | label | type | secret | description |",
        "`board` is in the schema but not in the table",
    ]


def test_other_columns_fail():
    table = PONG_TABLE.replace("| Setting | Label |", "| Setting | Stored as |", 1)
    (problem,) = settings_table_problems(Pong, pong_doc(table))
    assert problem.startswith("the table's columns are ['Setting', 'Stored as',")


def test_a_doc_without_a_settings_section_fails():
    doc = pong_doc().replace("## Settings", "## Configuration")
    assert settings_table_problems(Pong, doc) == ["no '## Settings' section"]


def test_a_settings_section_without_a_table_fails():
    assert settings_table_problems(Pong, pong_doc("Nothing to set.\n")) == [
        "no table under '## Settings'"
    ]


def test_only_the_table_under_settings_counts():
    doc = pong_doc("See below.\n") + "\n" + PONG_TABLE
    assert settings_table_problems(Pong, doc) == ["no table under '## Settings'"]


def test_a_subheading_inside_settings_does_not_end_it():
    doc = pong_doc("### The form\n\n" + PONG_TABLE)
    assert settings_table_problems(Pong, doc) == []


def test_a_service_without_settings_needs_no_section():
    class Bare(Service):
        pass

    assert settings_table_problems(Bare, "# Bare\n\nNothing to set.\n") == []
    assert settings_table(Bare).count("\n") == 2
