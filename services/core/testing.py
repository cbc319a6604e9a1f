"""Standard specs that every service gets from its own declaration.

What a service declares (its schema, its ``receive_*`` methods, its secrets) says
what must hold for it whatever it does, so the checks are written once here and a
package of services applies them with one class in its specs::

    from pathlib import Path

    from services.core.testing import StandardServiceTests, payloads_in
    from acme_services.foo import Foo

    class TestStandardFoo(StandardServiceTests):
        services = (Foo,)
        payloads = payloads_in(Path(__file__).parent / "fixtures")

For each service, pytest then checks that:

1. each event it handles, with an empty configuration (only the keys Aha! adds),
   ends in a ``ConfigurationError`` that names a setting; events that only react
   to something (webhooks, audits, ...) may instead end quietly; nothing is sent;
2. each event it does not handle is ignored and sends nothing;
3. with every secret (and every setting named like one) set to a marker and every
   request answered 500 with the markers echoed, no marker shows in a message, an
   exception, a log line or the answer;
4. with every URL-like setting on a refused address, an event that calls such a
   setting fails with ``InvalidUrlError`` and sends nothing;
5. every answer of ``run_event``, ``meta_data`` included, is JSON.

The checks are hermetic: every request goes to ``responses`` (one that no spec
answers fails), host names resolve through a fake table to a public address, and
the host's environment variables are cleared. This module needs pytest and
responses, the test dependencies, and is imported by specs only.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import responses

from services.core import address_guard
from services.core.errors import ConfigurationError, InvalidUrlError
from services.core.events import run_event
from services.core.schema import Field, is_url_like
from services.core.service import Service

# The events Aha! sends; a service may handle others (``wiki``), found by its methods.
STANDARD_EVENTS = (
    "installed",
    "updated",
    "create_feature",
    "update_feature",
    "create_release",
    "update_release",
    "webhook",
    "audit",
    "security",
)
# Events that send Aha! records out or test the connection: with nothing configured
# they must name what is missing. The others react to something and may find nothing to do.
CONFIGURATION_EVENTS = frozenset(
    {"installed", "create_feature", "update_feature", "create_release", "update_release"}
)
UNKNOWN_EVENT = "no_such_event"
REFUSED_URL = "http://127.0.0.1:9/"
# Where every fake host name resolves: public, so the address guard lets it through.
PUBLIC_ADDRESS = "93.184.215.14"
FAKE_DOMAIN = "standard-tests.example"
AHA_KEYS: Mapping[str, Any] = {
    "aha_account_domain": "acme",
    "aha_api_url_base": "https://aha.io/",
    "aha_api_token": "aha-token-standard-tests",
    "integration_id": 4242,
}
# What Aha! writes on the buttons of fixed fields: a message may name one to say what to do.
BUTTON_LABELS: Mapping[str, str] = {
    "install_button": "Test connection",
    "oauth_button": "Authenticate",
    "oauth2_button": "Authenticate",
    "webhooks_slack_button": "Add to Slack",
    "commands_slack_button": "Add to Slack",
}
_SECRET_LIKE = re.compile(r"(?i)token|secret|passw")
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_ENVIRONMENT = ("AHA_API_URL", "AHA_SERVICES_ALLOWED_HOSTS", "AHA_DOMAIN", "AHA_API_TOKEN")


def payloads_in(directory: str | Path) -> dict[str, Any]:
    """``{event: payload}`` from the ``<event>_event.json`` files of a fixtures directory."""
    return {
        path.name.removesuffix("_event.json"): json.loads(path.read_text())
        for path in sorted(Path(directory).glob("*_event.json"))
    }


# --- what a declaration says ---------------------------------------------------------------


def handled_events(service: type[Service]) -> list[str]:
    """Its ``receive_*`` methods, and the standard events it takes through ``receive_event``."""
    events = set(service.responds_to_events())
    events.update(event for event in STANDARD_EVENTS if service.responds_to_event(event))
    return sorted(events)


def unhandled_events(service: type[Service]) -> list[str]:
    """The standard events it has no handler for, and an event nobody sends."""
    return [e for e in (*STANDARD_EVENTS, UNKNOWN_EVENT) if not service.responds_to_event(e)]


def url_settings(service: type[Service], settings: Iterable[str] = ()) -> list[str]:
    """Schema strings named like a URL, server or host, and such names among ``settings``.

    ``callback_url`` fields are left out: Aha! fills them with its own address, which
    services hand to the third party rather than call.
    """
    names = [f.name for f in service.schema if f.type == "string" and is_url_like(f.name)]
    return names + [name for name in settings if is_url_like(name) and name not in names]


def secret_names(service: type[Service], data: Iterable[str] = ()) -> list[str]:
    """The settings never to be shown: password fields, ``secret_settings``, the Aha! token,
    and any setting in ``data`` named like a token, a secret or a password."""
    names = [f.name for f in service.schema if f.is_secret]
    names += [*service.secret_settings, "aha_api_token"]
    names += [name for name in data if _SECRET_LIKE.search(name)]
    return list(dict.fromkeys(names))


def setting_words(service: type[Service]) -> set[str]:
    """How a message may name a setting: by name, spelt with spaces, by label or button."""
    words: set[str] = set()
    for entry in service.schema:
        words.update((entry.name, entry.name.replace("_", " ")))
        words.update(str(entry.options.get(key) or "") for key in ("label", "label_name"))
        words.add(BUTTON_LABELS.get(entry.type, ""))
    for name in service.secret_settings:
        words.update((name, name.replace("_", " ")))
    return {word.casefold() for word in words if word}


def names_a_setting(service: type[Service], message: str) -> bool:
    """Whether a message tells the user which setting to fix."""
    text = message.casefold()
    return any(word in text for word in setting_words(service))


def marker(name: str) -> str:
    """A value nobody would write, to look for in what comes out."""
    return f"marker-{name}-{secrets.token_hex(6)}"


def fake_url(name: str) -> str:
    """An https address on a host of its own, so that a request shows which setting it used."""
    return f"https://{name.replace('_', '-')}.{FAKE_DOMAIN}/{marker('path')}"


def plausible_value(entry: Field) -> Any:
    """A value a user could have saved; None for the fields a user does not fill in."""
    if entry.is_secret or (entry.type == "string" and _SECRET_LIKE.search(entry.name)):
        return marker(entry.name)
    if entry.type == "string":
        return fake_url(entry.name) if is_url_like(entry.name) else f"standard-{entry.name}"
    if entry.type == "boolean":
        return "1"
    if entry.type == "callback_url":
        return "https://acme.aha.io/api/v1/webhooks/standard-tests"
    if entry.type == "select":
        collection = entry.options.get("collection")
        if callable(collection):
            return "1001"  # a remote list holds the third party's ids
        return collection[0][1] if collection else None
    return None


def plausible_settings(
    service: type[Service], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every setting filled in as a user would, secrets as markers, ``overrides`` last."""
    data: dict[str, Any] = dict(AHA_KEYS, aha_api_token=marker("aha_api_token"))
    for entry in service.schema:
        value = plausible_value(entry)
        if value is not None:
            data[entry.name] = value
    data.update({name: marker(name) for name in service.secret_settings})
    data.update(overrides or {})
    return data


# --- running one event -----------------------------------------------------------------------


def expect(condition: object, message: str) -> None:
    """Fail the spec with ``message`` (an ``assert`` here would vanish under ``python -O``)."""
    if not condition:
        pytest.fail(message)


def describe(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}" if error else "no error"


@dataclass
class Outcome:
    """What one event did: the proxy's answer, what it raised, sent and logged."""

    answer: dict[str, Any]
    error: BaseException | None
    calls: list[Any]
    log: str

    @property
    def sent(self) -> list[str]:
        return [f"{call.request.method} {call.request.url}" for call in self.calls]

    @property
    def hosts(self) -> list[str]:
        return [urlsplit(call.request.url).hostname or "" for call in self.calls]


class EventRunner:
    """Runs events as the proxy does, with every request recorded and none answered
    unless ``answer_everything`` says so."""

    def __init__(self, mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture):
        self.mock = mock
        self.caplog = caplog

    def answer_everything(self, status: int, echo: Iterable[str] = ()) -> None:
        """Answer any request with ``status``, ``echo`` in the JSON body and in a header."""
        echoed = " ".join(echo)
        body = json.dumps({"error": f"failed: {echoed}", "message": echoed, "errors": [echoed]})
        headers = {"X-Echo": echoed}
        for method in _HTTP_METHODS:
            self.mock.add(
                method,
                re.compile(r".*"),
                status=status,
                body=body,
                headers=headers,
                content_type="application/json",
            )

    def run(
        self,
        service: type[Service],
        event: str,
        *,
        data: Mapping[str, Any],
        payload: Any = None,
        meta_data: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """One event through ``run_event``; its answer must be JSON whatever happened."""
        raised: list[BaseException] = []
        receive = service.receive

        def recording_receive(instance: Service, *args: Any, **kwargs: Any) -> Service:
            try:
                return receive(instance, *args, **kwargs)
            except BaseException as error:
                raised.append(error)
                raise

        self.caplog.clear()
        first_call = len(self.mock.calls)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(service, "receive", recording_receive)
            answer = run_event(
                service, event, user_data=dict(data), payload=payload, meta_data=meta_data
            )
        try:
            json.dumps(answer, allow_nan=False)
        except (TypeError, ValueError) as error:
            pytest.fail(f"the answer to :{event} is not JSON ({error}): {answer!r}")
        calls = list(self.mock.calls)[first_call:]
        return Outcome(answer, raised[0] if raised else None, calls, self.caplog.text)


def _cases(
    generate: Callable[[StandardServiceTests, type[Service]], Iterable[str]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run the marked check for each service, once per event that ``generate`` names."""

    def mark(check: Callable[..., None]) -> Callable[..., None]:
        # A function attribute, read back when pytest generates the cases.
        check.standard_cases = generate  # type: ignore[attr-defined]
        return check

    return mark


class StandardServiceTests:
    """Subclass in a spec and set ``services``; pytest runs every check for each of them.

    ``payloads`` maps an event to the payload it is sent with (see ``payloads_in``);
    ``service_payloads`` overrides it per service name (a tracker's own webhook body);
    ``settings`` gives, per service name, values the schema cannot suggest: what a
    button stores, a host that must be the vendor's, a status mapping a payload hits.
    """

    services: ClassVar[Sequence[type[Service]]] = ()
    payloads: ClassVar[Mapping[str, Any]] = {}
    service_payloads: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    settings: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        generate = getattr(metafunc.function, "standard_cases", None)
        if generate is None:
            return
        cases = [
            pytest.param(service, event, id=f"{service.service_name}-{event}")
            for service in self.services
            for event in generate(self, service)
        ]
        metafunc.parametrize(("service", "event"), cases)

    @pytest.fixture
    def standard_runner(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> Iterator[EventRunner]:
        """No environment of this machine, fake DNS, every log line and request captured."""
        for name in _ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(
            address_guard, "resolve", lambda host, port: [ip_address(PUBLIC_ADDRESS)]
        )
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="services")
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield EventRunner(mock, caplog)

    def payload_for(self, service: type[Service], event: str) -> Any:
        own = self.service_payloads.get(service.service_name, {})
        return own[event] if event in own else self.payloads.get(event, {})

    def settings_for(self, service: type[Service]) -> dict[str, Any]:
        return plausible_settings(service, self.settings.get(service.service_name, {}))

    def url_settings_of(self, service: type[Service]) -> list[str]:
        return url_settings(service, self.settings.get(service.service_name, {}))

    # --- the checks ---------------------------------------------------------------------

    @_cases(lambda suite, service: handled_events(service))
    def test_empty_configuration_names_a_missing_setting(
        self, service: type[Service], event: str, standard_runner: EventRunner
    ) -> None:
        outcome = standard_runner.run(
            service, event, data=AHA_KEYS, payload=self.payload_for(service, event)
        )
        expect(not outcome.sent, f"sent with nothing configured: {outcome.sent}")
        error = outcome.error
        if error is None:
            expect(
                event not in CONFIGURATION_EVENTS,
                f":{event} with nothing configured ended without naming a missing setting",
            )
            return
        expect(
            isinstance(error, ConfigurationError),
            f":{event} with nothing configured raised {describe(error)}",
        )
        expect(
            names_a_setting(service, str(error)),
            f"{describe(error)} names no setting of {service.service_name}",
        )

    @_cases(lambda suite, service: unhandled_events(service))
    def test_unhandled_event_is_ignored(
        self, service: type[Service], event: str, standard_runner: EventRunner
    ) -> None:
        meta_data = {"kept": "as it was"}
        outcome = standard_runner.run(
            service,
            event,
            data=self.settings_for(service),
            payload=self.payload_for(service, event),
            meta_data=meta_data,
        )
        expect(outcome.error is None, f":{event} raised {describe(outcome.error)}")
        expect(not outcome.sent, f":{event} sent {outcome.sent}")
        expect(outcome.answer["meta_data"] == meta_data, f"meta_data changed: {outcome.answer}")
        expect(
            any(event in message["message"] for message in outcome.answer["messages"]),
            f"no message says that :{event} was ignored: {outcome.answer['messages']}",
        )

    @_cases(lambda suite, service: handled_events(service))
    def test_secrets_stay_secret(
        self, service: type[Service], event: str, standard_runner: EventRunner
    ) -> None:
        data = self.settings_for(service)
        meta_data = {name: marker(name) for name in service.secret_meta_data}
        hidden = {str(data[name]) for name in secret_names(service, data) if data.get(name)}
        hidden.update(str(value) for value in service.secret_values(data))
        hidden.update(meta_data.values())
        standard_runner.answer_everything(500, sorted(hidden))
        outcome = standard_runner.run(
            service, event, data=data, payload=self.payload_for(service, event), meta_data=meta_data
        )
        # The secrets a service keeps in meta_data go back to Aha!, which stores them.
        answer = dict(outcome.answer)
        answer["meta_data"] = {
            key: value
            for key, value in answer["meta_data"].items()
            if key not in service.secret_meta_data
        }
        shown = {
            "the exception": repr(outcome.error),
            "the answer": json.dumps(answer),
            "the log": outcome.log,
        }
        for where, text in shown.items():
            leaked = [secret for secret in hidden if secret in text]
            expect(not leaked, f"{', '.join(leaked)} shows in {where}: {text}")

    @_cases(
        lambda suite, service: handled_events(service) if suite.url_settings_of(service) else []
    )
    def test_refused_address_sends_nothing(
        self, service: type[Service], event: str, standard_runner: EventRunner
    ) -> None:
        data = self.settings_for(service)
        payload = self.payload_for(service, event)
        names = self.url_settings_of(service)
        standard_runner.answer_everything(500)
        probe = standard_runner.run(service, event, data=data, payload=payload)
        refused = standard_runner.run(
            service, event, data={**data, **dict.fromkeys(names, REFUSED_URL)}, payload=payload
        )
        expect("127.0.0.1" not in refused.hosts, f"sent to a refused address: {refused.sent}")
        configured = {urlsplit(str(data.get(n))).hostname or str(data.get(n)) for n in names}
        if not configured.intersection(probe.hosts):
            return  # the event calls none of these addresses: there is nothing to refuse
        expect(not refused.sent, f"sent before refusing {REFUSED_URL}: {refused.sent}")
        if isinstance(refused.error, InvalidUrlError):
            return
        # A setting held to the vendor's own domain refuses every other host the same way,
        # before any address is looked at: as safe, and a clearer message.
        elsewhere = standard_runner.run(
            service, event, data={**data, **{n: fake_url(n) for n in names}}, payload=payload
        )
        expect(
            isinstance(refused.error, ConfigurationError)
            and not elsewhere.sent
            and repr(elsewhere.error) == repr(refused.error),
            f"{', '.join(names)} on {REFUSED_URL}: expected InvalidUrlError, got "
            f"{describe(refused.error)}",
        )
