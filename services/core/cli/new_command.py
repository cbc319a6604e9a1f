"""``aha-services new NAME``: the three files of a new service, ready to edit, and its
row in README's services table.

The module (``services/NAME.py``, or ``services/NAME/__init__.py`` with ``--package``),
its doc (``docs/NAME.md``, with the settings table rendered from the schema) and its
spec (``spec/services/test_NAME.py``, one passing spec that mocks the HTTP call). The
class is named so that the registry names the service NAME.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import click

import services
from services.core.docs import settings_table
from services.core.registry import default_registry, services_in
from services.core.service import humanize, snake_case

_NAME = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")
# A row of README's services table, as the contract spec reads it.
_README_ROW = re.compile(r"^\| \[`\w+`\]\(docs/\w+\.md\) \| ")

MODULE = '''\
"""{title}: features sent to {title} as items (describe what the service does here)."""

from services.core import RemoteError, Service, password, string


class {cls}(Service):
    title = "{title}"
    caption = "Send features to {title}"
    schema = (
        string("server_url", label_name="Server URL", description="Your {title} address."),
        password("api_key", description="An API key of the {title} user that creates items."),
    )

    def receive_create_feature(self) -> None:
        response = self.http_post(
            f"{{self.data.server_url}}/api/items",
            json={{"name": self.payload.feature.name}},
            headers={{"Authorization": f"Bearer {{self.data.api_key}}"}},
        )
        if response.status_code >= 400:
            raise RemoteError(f"{title} answered HTTP {{response.status_code}}")
'''

SPEC = """\
from services.{name} import {cls}
from spec.conftest import json_fixture, request_json

SERVER = "https://{slug}.example.com"


def test_create_feature_creates_an_item(mocked_http):
    mocked_http.post(f"{{SERVER}}/api/items", status=201, json={{"id": 1}})
    payload = json_fixture("create_feature_event.json")
    {cls}({{"server_url": SERVER, "api_key": "key-123"}}, payload).receive("create_feature")
    [call] = mocked_http.calls
    assert call.request.method == "POST"
    assert call.request.url == f"{{SERVER}}/api/items"
    assert call.request.headers["Authorization"] == "Bearer key-123"
    assert request_json(call) == {{"name": payload["feature"]["name"]}}
"""

DOC = """\
# {title} (`{name}`)

Describe what this integration does for an Aha! user, and when it acts.

## Settings

{table}
## Events

| Event | What is sent |
| --- | --- |
| `create_feature` | `POST /api/items` with the feature's name |

Every other event is ignored.

## Errors

- An answer of HTTP 400 or above: a remote error naming the status.
"""


def project_root() -> Path:
    """The checkout that holds ``services/``, where the new files go."""
    return Path(services.__file__).resolve().parent.parent


def class_name(name: str) -> str:
    """The class the registry names ``name``: ``foo_bar`` is ``FooBar``."""
    return "".join(part.capitalize() for part in name.split("_"))


@click.command("new")
@click.argument("name")
@click.option("--package", is_flag=True, help="A package (services/NAME/) instead of a module.")
def new(name: str, package: bool) -> None:
    """Create the module, doc and spec of a new service NAME (snake_case)."""
    if not _NAME.match(name) or "__" in name:
        raise click.UsageError(f"{name!r} is not a service name: use lower_snake_case")
    cls = class_name(name)
    if snake_case(cls) != name:
        raise click.UsageError(f"{name!r} would not name the class {cls} back; choose another")
    root = project_root()
    module = root / "services" / (f"{name}/__init__.py" if package else f"{name}.py")
    paths = [
        module,
        root / "services" / f"{name}.py",
        root / "services" / name,
        root / "docs" / f"{name}.md",
        root / "spec" / "services" / f"test_{name}.py",
    ]
    taken = list(dict.fromkeys(str(path.relative_to(root)) for path in paths if path.exists()))
    if default_registry().get(name) is not None or taken:
        raise click.UsageError(f"a service named {name} exists already: {', '.join(taken)}")
    title = humanize(name)
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(MODULE.format(cls=cls, title=title))
    table = settings_table(_service_of(module, name))
    doc, spec = paths[3], paths[4]
    doc.write_text(DOC.format(title=title, name=name, table=table))
    spec.write_text(SPEC.format(name=name, cls=cls, slug=name.replace("_", "-")))
    for path in (module, doc, spec):
        click.echo(f"created {path.relative_to(root)}")
    if _add_readme_row(root / "README.md", name, title):
        click.echo(f"added {name} to the services table in README.md")


def _add_readme_row(readme: Path, name: str, title: str) -> bool:
    """List the service in README's services table (the contract spec checks that the
    table names every service the registry loads); False when there is no table."""
    if not readme.is_file():
        return False
    lines = readme.read_text().splitlines(keepends=True)
    rows = [index for index, line in enumerate(lines) if _README_ROW.match(line)]
    if not rows:
        return False
    lines.insert(rows[-1] + 1, f"| [`{name}`](docs/{name}.md) | {title} | (what it does) |\n")
    readme.write_text("".join(lines))
    return True


def _service_of(path: Path, name: str) -> type:
    """The service class the new module defines, loaded from its file."""
    spec = importlib.util.spec_from_file_location(f"services.{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [service] = services_in(module)
    return service
