"""A service's settings table, derived from its schema, and the check that a doc's table agrees.

The schema is the one declaration: ``settings_table`` renders it as Markdown (what
``aha-services show <service>`` prints), and ``settings_table_problems`` says where the
table under a doc's ``## Settings`` heading has drifted from it. The doc keeps its own
labels and prose; the names, types and secrecy of the settings must be the schema's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.core.schema import Field
from services.core.service import Service

COLUMNS = ("Setting", "Label", "Type", "Secret", "Description")
SETTINGS_HEADING = "## Settings"
INTERNAL_NOTE = "(internal, kept by Aha!)"
SECRET_MARK = "yes"

_NAME_CELL = re.compile(r"^`(\w+)`$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class SettingRow:
    """One row of a settings table: a schema field as a reader sees it."""

    name: str
    label: str
    type: str
    secret: bool
    description: str


def declared_label(entry: Field) -> str:
    """The label the schema gives a field (``label_name``, or ``label``); empty when none."""
    return str(entry.options.get("label_name") or entry.options.get("label") or "")


def default_label(name: str) -> str:
    """The label a form gives a field that declares none: its name in words, ``Hook url``."""
    return name.replace("_", " ").capitalize()


def is_secret_setting(service: type[Service], entry: Field) -> bool:
    """A password field, or a field the service names in ``secret_settings``."""
    return entry.is_secret or entry.name in service.secret_settings


def setting_rows(service: type[Service]) -> list[SettingRow]:
    """The rows of a service's settings table, in schema order."""
    rows = []
    for entry in service.schema:
        description = str(entry.options.get("description") or "")
        if entry.type == "internal":
            description = f"{description} {INTERNAL_NOTE}".strip()
        rows.append(
            SettingRow(
                name=entry.name,
                label=declared_label(entry) or default_label(entry.name),
                type=entry.type,
                secret=is_secret_setting(service, entry),
                description=description,
            )
        )
    return rows


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _line(cells: tuple[str, ...]) -> str:
    return "|" + "|".join(f" {_cell(cell)} " if cell else " " for cell in cells) + "|"


def settings_table(service: type[Service]) -> str:
    """The Markdown settings table of a service, as its doc shows it under ``## Settings``."""
    lines = [_line(COLUMNS), _line(("---",) * len(COLUMNS))]
    for row in setting_rows(service):
        secret = SECRET_MARK if row.secret else ""
        lines.append(_line((f"`{row.name}`", row.label, row.type, secret, row.description)))
    return "\n".join(lines) + "\n"


def _settings_section(markdown: str) -> list[str] | None:
    """The lines under the ``## Settings`` heading, up to the next heading of that level."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == SETTINGS_HEADING:
            section = []
            for following in lines[index + 1 :]:
                if re.match(r"^#{1,2} ", following):
                    break
                section.append(following)
            return section
    return None


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [cell.strip() for cell in _UNESCAPED_PIPE.split(inner)]


def _first_table(section: list[str]) -> list[list[str]]:
    """The rows (header first, separator dropped) of the first table in a section."""
    table: list[list[str]] = []
    for line in section:
        if line.lstrip().startswith("|"):
            table.append(_split_row(line))
        elif table:
            break
    return [table[0], *table[2:]] if table else []


def settings_table_problems(service: type[Service], markdown: str) -> list[str]:
    """Where the settings table of a doc disagrees with the service's schema; empty when
    every schema field has its row, no row names a field the schema lacks, and each row's
    type, secrecy and declared label are the schema's."""
    section = _settings_section(markdown)
    if section is None:
        return [f"no '{SETTINGS_HEADING}' section"] if service.schema else []
    table = _first_table(section)
    if not table:
        return [f"no table under '{SETTINGS_HEADING}'"] if service.schema else []
    header, rows = table[0], table[1:]
    if tuple(header) != COLUMNS:
        return [f"the table's columns are {header}, expected {list(COLUMNS)}"]
    expected = {entry.name: entry for entry in service.schema}
    problems: list[str] = []
    seen: set[str] = set()
    for number, cells in enumerate(rows, start=1):
        match = _NAME_CELL.match(cells[0]) if len(cells) == len(COLUMNS) else None
        if match is None:
            problems.append(f"row {number} is not | `name` | label | type | secret | description |")
            continue
        name = match.group(1)
        if name in seen:
            problems.append(f"`{name}` is listed twice")
        seen.add(name)
        entry = expected.get(name)
        if entry is None:
            problems.append(f"`{name}` is in the table but not in the schema")
            continue
        problems.extend(_row_problems(service, entry, cells))
    problems.extend(
        f"`{name}` is in the schema but not in the table" for name in expected if name not in seen
    )
    return problems


def _row_problems(service: type[Service], entry: Field, cells: list[str]) -> list[str]:
    _, label, type_, secret, _ = (cell.strip("`") for cell in cells)
    problems = []
    if type_ != entry.type:
        problems.append(f"`{entry.name}` is a {entry.type} in the schema, not a {type_}")
    if secret not in ("", SECRET_MARK):
        problems.append(f"`{entry.name}`: the Secret cell is '{SECRET_MARK}' or empty")
    elif (secret == SECRET_MARK) != is_secret_setting(service, entry):
        state = "secret" if is_secret_setting(service, entry) else "not secret"
        problems.append(f"`{entry.name}` is {state} in the schema")
    declared = declared_label(entry)
    if declared and label != declared:
        problems.append(f"`{entry.name}` is labelled '{declared}' in the schema, not '{label}'")
    return problems
