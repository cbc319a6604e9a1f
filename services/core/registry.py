"""Finds service modules: every module under ``services/``, and entry points ``aha_services``.

No hand-kept list: a contributor adds a module and it is found. A module that
fails to import is recorded with its traceback and the others still load, even
when it raises ``SystemExit`` or another BaseException (all but KeyboardInterrupt).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from services.core.service import Service

ENTRY_POINT_GROUP = "aha_services"
_FRAMEWORK_PACKAGE = "core"


@dataclass(frozen=True)
class LoadFailure:
    """A module that could not be loaded, or a clash between two services."""

    source: str
    message: str
    traceback: str = ""


@dataclass
class Registry:
    services: dict[str, type[Service]] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)
    # What service modules offer as ``cli_commands``, by module: a list of click commands,
    # or a function that builds them when the command line first asks (a proxy worker
    # never does, and so never imports click).
    command_offers: list[tuple[str, Any]] = field(default_factory=list)
    _commands: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def get(self, service_name: str) -> type[Service] | None:
        return self.services.get(str(service_name))

    def __iter__(self) -> Iterator[type[Service]]:
        return iter(sorted(self.services.values(), key=lambda s: s.service_name))

    def __len__(self) -> int:
        return len(self.services)

    def add(self, service: type[Service], source: str) -> None:
        existing = self.services.get(service.service_name)
        if existing is not None and existing is not service:
            self.failures.append(
                LoadFailure(
                    source,
                    f"service_name {service.service_name!r} is defined twice: by "
                    f"{_qualified(existing)} and by {_qualified(service)}",
                )
            )
            return
        self.services[service.service_name] = service

    def add_module(self, module: ModuleType) -> None:
        for service in services_in(module):
            self.add(service, module.__name__)
        offer = getattr(module, "cli_commands", None)
        if offer is not None:
            self.command_offers.append((module.__name__, offer))

    @property
    def commands(self) -> dict[str, Any]:
        """The command-line commands the service modules offer, by name. A module whose
        offer fails to build is a load failure of its own; the others' commands stay."""
        if self._commands is None:
            self._commands = {}
            for source, offer in self.command_offers:
                try:
                    built = list(offer if isinstance(offer, list | tuple) else offer())
                    named = {command.name: command for command in built}
                except BaseException as error:
                    _reraise_interrupt(error)
                    self.fail(f"{source}.cli_commands", error)
                    continue
                self._commands.update(named)
        return self._commands

    def failure_for(self, service_name: str) -> LoadFailure | None:
        """The load failure of the module (or entry point) that a service name points at.

        ``foo`` names the module ``services.foo`` (or ``services.foo`` the package) and
        the entry point ``foo``: the places a service called ``foo`` would have come from.
        """
        name = str(service_name)
        for failure in self.failures:
            if failure.source.rsplit(".", 1)[-1] == name or failure.source.startswith(
                f"entry point {name} ("
            ):
                return failure
        return None

    def configuration(self) -> dict[str, Any]:
        """The ``/configuration`` document: every service with its wire schema."""
        return {
            "services": [
                {
                    "service_name": service.service_name,
                    "title": service.title,
                    "schema": [entry.to_wire() for entry in service.schema],
                }
                for service in self
            ]
        }

    def log_failures(self, logger: logging.Logger) -> None:
        """Name every module that failed to load, with its traceback as the details."""
        for failure in self.failures:
            logger.error(
                "Could not load %s: %s",
                failure.source,
                failure.message,
                extra={"details": failure.traceback},
            )

    def fail(self, source: str, error: BaseException) -> None:
        self.failures.append(
            LoadFailure(source, f"{type(error).__name__}: {error}", traceback.format_exc())
        )


def _qualified(service: type[Service]) -> str:
    return f"{service.__module__}.{service.__qualname__}"


def services_in(module: ModuleType) -> list[type[Service]]:
    """The concrete Service classes a module (or its package) defines."""
    prefix = module.__name__
    return [
        member
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, Service)
        and not member.abstract
        and (member.__module__ == prefix or member.__module__.startswith(prefix + "."))
    ]


def service_module_names(package: ModuleType) -> list[str]:
    return sorted(
        f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if info.name != _FRAMEWORK_PACKAGE and not info.name.startswith("_")
    )


def _reraise_interrupt(error: BaseException) -> None:
    """Ctrl-C still stops the process; anything else a module raises on import
    (a stray ``sys.exit()`` is a SystemExit) is recorded as its load failure."""
    if isinstance(error, KeyboardInterrupt):
        raise error


def load_registry(package_name: str = "services", *, use_entry_points: bool = True) -> Registry:
    """Import every service module and collect its services; failures are kept, not raised."""
    registry = Registry()
    package = importlib.import_module(package_name)
    for name in service_module_names(package):
        try:
            module = importlib.import_module(name)
        except BaseException as error:
            _reraise_interrupt(error)
            registry.fail(name, error)
            continue
        registry.add_module(module)
    if use_entry_points:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            source = f"entry point {entry_point.name} ({entry_point.value})"
            try:
                loaded: Any = entry_point.load()
            except BaseException as error:
                _reraise_interrupt(error)
                registry.fail(source, error)
                continue
            if inspect.isclass(loaded) and issubclass(loaded, Service):
                registry.add(loaded, source)
            elif inspect.ismodule(loaded):
                registry.add_module(loaded)
            else:
                registry.failures.append(
                    LoadFailure(
                        source, "an aha_services entry point must name a module or a Service class"
                    )
                )
    return registry


@cache
def default_registry() -> Registry:
    """The registry of this process, loaded once."""
    return load_registry()
