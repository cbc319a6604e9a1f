"""The configuration-field DSL: a service declares its settings as data, once.

Aha! renders the settings form from these entries, the proxy serialises them for
``/configuration``, and the framework derives from them which values are secret.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.core.errors import ConfigurationError

RemoteCollection = Callable[[Any, Any], list]

FIELD_TYPES = frozenset(
    {
        "string",
        "password",
        "boolean",
        "select",
        "callback_url",
        "install_button",
        "oauth_button",
        "oauth2_button",
        "audit_filter",
        "internal",
        "commands_slack_button",
        "webhooks_slack_button",
        "confluence_button",
    }
)

# Buttons and fixed fields carry a fixed name, as Aha! stores them.
_FIXED_NAMES = FIELD_TYPES - {"string", "password", "boolean", "select", "internal"}


@dataclass(frozen=True)
class Field:
    """One schema entry: its type, its name, and options passed to Aha! untouched.

    ``bounds`` makes it a number setting (see ``number``); it is never sent to Aha!.
    """

    type: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    bounds: tuple[float, float] | None = None

    @property
    def is_secret(self) -> bool:
        return self.type == "password"

    @property
    def remote_collection(self) -> RemoteCollection | None:
        """The callable that answers ``/remote_collection`` for this field, if any."""
        collection = self.options.get("collection")
        return collection if callable(collection) else None

    def to_wire(self) -> dict[str, Any]:
        """The shape ``/configuration`` sends; a callable collection reads ``remote_collection``."""
        options = {
            key: ("remote_collection" if key == "collection" and callable(value) else value)
            for key, value in self.options.items()
        }
        return {"type": self.type, "name": self.name, "options": options}


def _field(type_: str, name: str, options: dict[str, Any]) -> Field:
    return Field(type_, str(name), dict(options))


def number(name: str, *, minimum: float, maximum: float, **options: Any) -> Field:
    """A number from ``minimum`` to ``maximum``; Aha! shows it as a text field.

    Every event checks it before it runs (``check_numbers``): anything else,
    ``inf``, ``nan`` and text included, is a ``ConfigurationError`` naming it.
    """
    return Field("string", str(name), dict(options), bounds=(float(minimum), float(maximum)))


def number_value(setting: Field, value: Any) -> float | None:
    """The number ``value`` holds for a number setting; ``None`` when it is not set."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    low, high = setting.bounds or (-math.inf, math.inf)
    try:
        if isinstance(value, bool):
            raise TypeError
        number_read = float(value)
    except (TypeError, ValueError, OverflowError):
        number_read = math.nan
    if not low <= number_read <= high:  # nan compares false
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ConfigurationError(
            f"The {setting.name} setting must be a number from {low:g} to {high:g}, not {shown}"
        )
    return number_read


def check_numbers(schema: Iterable[Field], data: Mapping[str, Any]) -> None:
    """Raise ``ConfigurationError`` for the first number setting in ``data`` out of bounds."""
    for setting in schema:
        if setting.bounds is not None:
            number_value(setting, data.get(setting.name))


def string(name: str, **options: Any) -> Field:
    return _field("string", name, options)


def password(name: str, **options: Any) -> Field:
    """A secret: redacted from every log line, answer and exception text."""
    return _field("password", name, options)


def boolean(name: str, **options: Any) -> Field:
    return _field("boolean", name, options)


def select(name: str, collection: Iterable[Any] | RemoteCollection = (), **options: Any) -> Field:
    """A choice: a static list of ``[label, value]`` pairs, or ``(meta_data, data) -> pairs``."""
    if not callable(collection):
        collection = [list(item) if isinstance(item, tuple) else item for item in collection]
    return _field("select", name, {"collection": collection, **options})


def internal(name: str, **options: Any) -> Field:
    """A value Aha! keeps for the integration but does not show as a plain field."""
    return _field("internal", name, options)


def _fixed_field(type_: str) -> Callable[..., Field]:
    """A DSL function for a field whose name is its type, as Aha! stores buttons."""

    def make(**options: Any) -> Field:
        return _field(type_, type_, options)

    make.__name__ = make.__qualname__ = type_
    return make


callback_url = _fixed_field("callback_url")
install_button = _fixed_field("install_button")
oauth_button = _fixed_field("oauth_button")
oauth2_button = _fixed_field("oauth2_button")
audit_filter = _fixed_field("audit_filter")
commands_slack_button = _fixed_field("commands_slack_button")
webhooks_slack_button = _fixed_field("webhooks_slack_button")
confluence_button = _fixed_field("confluence_button")


# Settings named like an address: ``hook_url``, ``server_url``, ``base_uri``, ``host``.
_URL_LIKE = re.compile(r"(?i)(?:^|_)(?:url|uri|server|host)(?:name)?s?(?:_|$)")


def is_url_like(name: str) -> bool:
    """A setting whose name says it holds an address the service calls."""
    return bool(_URL_LIKE.search(name))


_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}


def switched_on(value: Any, default: bool = False) -> bool:
    """A boolean setting as Aha! may store it: true/false, "1"/"0", "true"/"false", 1/0.

    An unset or unreadable value is ``default``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value or "").strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    return default


def schema_problems(schema: Iterable[Any]) -> list[str]:
    """What is wrong with a schema; empty when it is well formed."""
    problems: list[str] = []
    seen: set[str] = set()
    for entry in schema:
        if not isinstance(entry, Field):
            problems.append(f"{entry!r} is not a schema Field")
            continue
        if entry.type not in FIELD_TYPES:
            problems.append(f"{entry.name}: unknown field type {entry.type!r}")
        if not entry.name or not entry.name.isidentifier():
            problems.append(f"{entry.name!r}: a field name must be an identifier")
        if entry.type in _FIXED_NAMES and entry.name != entry.type:
            problems.append(f"{entry.name}: a {entry.type} field must be named {entry.type}")
        if entry.name in seen:
            problems.append(f"{entry.name}: declared twice")
        if entry.bounds is not None and not (
            all(math.isfinite(bound) for bound in entry.bounds)
            and entry.bounds[0] <= entry.bounds[1]
        ):
            problems.append(f"{entry.name}: a number's bounds are two finite numbers, low first")
        seen.add(entry.name)
        if entry.type == "select":
            collection = entry.options.get("collection")
            if not callable(collection) and not all(
                isinstance(pair, list) and len(pair) == 2 for pair in collection or []
            ):
                problems.append(f"{entry.name}: a select collection holds [label, value] pairs")
    return problems
