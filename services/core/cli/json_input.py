"""One reader for every JSON option: ``@file``, ``-`` (standard input) or the JSON text.

``--data``, ``--payload`` and ``--meta-data`` of ``send``, and ``--payload`` of the
entity commands, all take these three forms, and a bad value is a usage error
(exit 2) that says what was wrong: the file that is missing, or where the JSON broke.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from services.core import strict_json

_STDIN_READ = "aha_services_stdin_read"


class JsonInput(click.ParamType):
    """A click type that reads and parses JSON; ``object_only`` asks for a JSON object."""

    name = "json"

    def __init__(self, *, object_only: bool = False):
        self.object_only = object_only

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        text = self._text(value, param, ctx)
        try:
            parsed = strict_json.loads(text)
        except RecursionError:
            self.fail("malformed JSON: nested too deeply", param, ctx)
        except strict_json.NotJson as error:
            self.fail(f"malformed JSON: {error}", param, ctx)
        except json.JSONDecodeError as error:
            hint = ""
            if value == text and Path(value).is_file():
                hint = f" (to read the file, write @{value})"
            self.fail(
                f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}{hint}",
                param,
                ctx,
            )
        if self.object_only and not isinstance(parsed, dict):
            self.fail("must be a JSON object", param, ctx)
        return parsed

    def _text(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value == "-":
            root = ctx.find_root() if ctx else None
            if root is not None:
                if root.meta.get(_STDIN_READ):
                    self.fail("standard input was already read by another option", param, ctx)
                root.meta[_STDIN_READ] = True
            return sys.stdin.read()
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            try:
                return path.read_text(encoding="utf-8")
            except FileNotFoundError:
                self.fail(f"no such file: {path}", param, ctx)
            except (OSError, UnicodeDecodeError) as error:
                self.fail(f"cannot read {path}: {error}", param, ctx)
        return value


JSON_OBJECT = JsonInput(object_only=True)
JSON_VALUE = JsonInput()
