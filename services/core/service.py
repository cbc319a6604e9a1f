"""The Service base class: one subclass per third-party service."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from services.core.environment import expand, expand_all
from services.core.errors import (
    AhaServiceError,
    ConfigurationError,
    InvalidUrlError,
    MissingSetting,
    RemoteError,
)
from services.core.lean_imports import lean_import
from services.core.logger import EventLogger
from services.core.mash import frozen_mash, mash, to_plain
from services.core.schema import Field, check_numbers, is_url_like, number_value
from services.core.timing import (
    DEFAULT_EVENT_TIME_LIMIT,
    EVENT_TIMEOUT_SETTING,
    run_with_time_limit,
)

if TYPE_CHECKING:  # imported lazily at run time: the proxy starts faster without requests
    import requests

    from services.core.aha_api import AhaApi
    from services.core.http import HttpClient
    from services.core.mash import Mash

_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# user_data keys that Aha! adds beside the configuration and that must never be shown.
_ALWAYS_SECRET = ("aha_api_token",)
# Request headers whose values are secrets (GitLab's webhook token, an Authorization).
_SECRET_HEADER = re.compile(r"token|secret|password|authorization|cookie|api-?key", re.IGNORECASE)


def is_secret_header(name: str) -> bool:
    """Whether a request header carries a secret, by its name (a signature does not)."""
    return bool(_SECRET_HEADER.search(name))


def snake_case(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name).lower()


def humanize(name: str) -> str:
    return " ".join(word.capitalize() for word in snake_case(name).split("_") if word)


class Service:
    """React to Aha! events for one third-party service.

    Subclasses declare ``schema`` (see ``services.core.schema``) and define
    ``receive_<event>`` methods. ``data`` is the user's configuration (read-only),
    ``meta_data`` what the service keeps between events, ``payload`` the event body.
    """

    title: ClassVar[str] = "Service"
    # A class attribute that one instance may override (the proxy names itself per event).
    service_name: str = "service"
    caption: ClassVar[str | Callable[[str], str]] = ""
    category: ClassVar[str] = "Development"
    schema: ClassVar[tuple[Field, ...]] = ()
    white_listed: ClassVar[tuple[str, ...]] = ()
    # How messages name the third party ("rate limited by GitHub"); the title when empty.
    remote_name: ClassVar[str] = ""
    # Secrets that are not password fields: tokens an OAuth button stores in data,
    # and tokens the service keeps in meta_data.
    secret_settings: ClassVar[tuple[str, ...]] = ()
    secret_meta_data: ClassVar[tuple[str, ...]] = ()
    # Settings holding an address the service calls, besides the schema strings named
    # like one (``hook_url``, ``server_url``, ``base_uri``): checked before the event runs.
    url_settings: ClassVar[tuple[str, ...]] = ()
    # A base class for other services sets this, and the registry passes it over.
    abstract: ClassVar[bool] = True
    # The tracker's own webhook signature ("github", "gitlab") that the integration host
    # accepts in place of the intake secret; an integration's ``signature`` key overrides it.
    intake_signature: ClassVar[str | None] = None
    # Request headers the host keeps for the service besides the trackers' signature and
    # event headers it always keeps; they reach the service as ``request_headers``.
    intake_headers: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "title" not in cls.__dict__:
            cls.title = humanize(cls.__name__)
        if "service_name" not in cls.__dict__:
            cls.service_name = snake_case(cls.__name__)
        if "abstract" not in cls.__dict__:
            cls.abstract = False
        cls.schema = tuple(cls.schema)
        cls.white_listed = tuple(cls.white_listed)
        cls.secret_settings = tuple(cls.secret_settings)
        cls.secret_meta_data = tuple(cls.secret_meta_data)
        cls.url_settings = tuple(cls.url_settings)

    def __init__(
        self,
        data: Any = None,
        payload: Any = None,
        meta_data: Any = None,
        *,
        logger: EventLogger | None = None,
        api: AhaApi | None = None,
        service_name: str | None = None,
        request_headers: Mapping[str, str] | None = None,
    ):
        # Kept as given and turned into mashes on first use: an ignored event reads none.
        self._sources = {"data": data or {}, "payload": payload or {}, "meta_data": meta_data or {}}
        if service_name:
            self.service_name = service_name
        self.logger = logger or EventLogger(f"services.{type(self).service_name}")
        for secret in self.event_secrets(self._sources["data"], self._sources["meta_data"]):
            self.logger.redactor.add(secret)
        # The headers of the webhook that brought the event (lower-case names), as the
        # integration host hands them over; empty for an event from Aha!'s proxy.
        self.request_headers: Mapping[str, str] = MappingProxyType(
            {name.lower(): value for name, value in (request_headers or {}).items()}
        )
        for name, value in self.request_headers.items():
            if is_secret_header(name):
                self.logger.redactor.add(value)
        self.event: str | None = None
        self.deadline: float | None = None
        self._api = api
        self._http: HttpClient | None = None

    @cached_property
    def data(self) -> Mash:
        """The user's configuration, read-only."""
        return frozen_mash(expand_all(self._sources["data"]))

    @cached_property
    def payload(self) -> Mash:
        """The event body."""
        return mash(self._sources["payload"])

    @cached_property
    def meta_data(self) -> Mash:
        """What the service keeps between events; its changes are returned to Aha!."""
        return mash(self._sources["meta_data"])

    def meta_data_to_return(self) -> dict[str, Any]:
        """The whole ``meta_data`` for the answer, as plain JSON values."""
        if "meta_data" in self.__dict__:
            return to_plain(self.meta_data)
        return dict(self._sources["meta_data"])

    @classmethod
    def caption_display(cls, workspace_type: str = "product_workspace") -> str:
        caption = cls.caption
        return caption(workspace_type) if callable(caption) else caption

    @classmethod
    def responds_to_events(cls) -> list[str]:
        return sorted(
            name.removeprefix("receive_")
            for name in dir(cls)
            if name.startswith("receive_")
            and name != "receive_event"
            and callable(getattr(cls, name))
        )

    @classmethod
    def responds_to_event(cls, event: str) -> bool:
        return event in cls.responds_to_events()

    @classmethod
    def field_by_name(cls, name: str) -> Field | None:
        return next((f for f in cls.schema if f.name == str(name)), None)

    @classmethod
    def secret_values(cls, data: Any) -> Iterable[Any]:
        """Values in ``data`` never to be shown: password fields, ``secret_settings``, the
        Aha! token."""
        names = [f.name for f in cls.schema if f.is_secret]
        names += [*cls.secret_settings, *_ALWAYS_SECRET]
        return [data.get(name) for name in names if data.get(name)]

    @classmethod
    def event_secrets(cls, data: Any, meta_data: Any) -> list[Any]:
        """What an event's redactor starts with: ``secret_values`` as given and with their
        ``${VAR}`` filled in, and the ``secret_meta_data`` values."""
        secrets: list[Any] = []
        for secret in cls.secret_values(data):
            secrets.append(secret)
            with suppress(MissingSetting):  # reported when the event reads its settings
                secrets.append(expand(str(secret)))
        secrets.extend(meta_data.get(name) for name in cls.secret_meta_data)
        return secrets

    def keep_secret(self, value: Any) -> None:
        """Redact a value learned during the event (a fresh access token) from now on."""
        self.logger.redactor.add(value)

    def loggable_data(self) -> dict[str, Any]:
        """The configuration values the service allows in logs (its ``white_listed``)."""
        return {name: self.data.get(name) for name in self.white_listed if name in self.data}

    def verify_tls(self) -> bool:
        """Whether to verify TLS certificates; a service with a setting for it overrides this."""
        return True

    def remote(self) -> str:
        """The third party's name in messages: ``remote_name``, else the title."""
        return self.remote_name or self.title

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    @property
    def http(self) -> HttpClient:
        """This service's outbound HTTP client, built on first use."""
        if self._http is None:
            from services.core.http import HttpClient

            self._http = HttpClient(
                self.logger,
                verify=self.verify_tls(),
                time_left=self.time_left,
                remote_name=self.remote(),
            )
        return self._http

    @property
    def api(self) -> AhaApi:
        """The Aha! API client for the account that sent the event."""
        if self._api is None:
            from services.core.aha_api import AhaApi
            from services.core.http import HttpClient

            self._api = AhaApi(
                HttpClient(self.logger, time_left=self.time_left),
                domain=self.data.get("aha_account_domain") or None,
                url_base=self.data.get("aha_api_url_base") or None,
                token=self.data.get("aha_api_token") or None,
            )
        return self._api

    def http_get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.get(url, **kwargs)

    def http_post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.post(url, **kwargs)

    def http_put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.put(url, **kwargs)

    def http_patch(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.patch(url, **kwargs)

    def http_delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.http.delete(url, **kwargs)

    def get_integration_field(self, integration_fields: Any, name: str) -> Any:
        """The value of this integration's field ``name`` among a record's integration fields."""
        integration_id = str(self.data.get("integration_id", ""))
        for field in integration_fields or []:
            if str(field.get("integration_id")) == integration_id and field.get("name") == name:
                return field.get("value")
        return None

    @classmethod
    def ignores(cls, event: str) -> bool:
        """Whether ``receive(event)`` would only log the event as ignored: then the proxy
        answers it without building the service (no mashes, no settings read)."""
        return (
            cls.__init__ is Service.__init__
            and cls.receive is Service.receive
            and cls._handler is Service._handler
            and _handler_of(cls, str(event or "")) is None
        )

    @classmethod
    def ignoring_message(cls, event: str) -> str:
        return f"{cls.title} ignoring event :{event}"

    def _handler(self, event: str) -> Callable[[], Any] | None:
        return _handler_of(self, event)

    @classmethod
    def address_settings(cls) -> list[str]:
        """The settings that hold an address the service calls."""
        named = [f.name for f in cls.schema if f.type == "string" and is_url_like(f.name)]
        return [*named, *(name for name in cls.url_settings if name not in named)]

    def check_address_settings(self) -> None:
        """Every configured http(s) address passes the address guard before anything is
        sent, so that an event never half-runs (an Aha! record changed, a file downloaded)
        before its third party turns out to be refused."""
        from services.core import address_guard

        for name in self.address_settings():
            value = str(self.data.get(name) or "").strip()
            if not value.lower().startswith(("http://", "https://")):
                continue  # the service says what is wrong with anything else
            try:
                address_guard.guard_url(value)
            except InvalidUrlError as error:
                raise InvalidUrlError(f"{name}: {error}", error) from None

    def _time_limit(self, handler: Callable[[], Any], timeout: float | None) -> float:
        """The event's limit in seconds; every number setting is checked here, before it runs."""
        check_numbers(self.schema, self.data)
        setting = self.field_by_name("timeout")
        if setting is None or setting.bounds is None:
            setting = EVENT_TIMEOUT_SETTING
        limit = number_value(setting, self.data.get("timeout")) or timeout
        limit = limit or DEFAULT_EVENT_TIME_LIMIT
        method_limit = getattr(handler, "time_limit", None)
        return min(limit, method_limit) if method_limit else limit

    def _redact(self, error: BaseException) -> BaseException:
        """No secret leaves in an error's text, whoever wrote the text."""
        error.args = tuple(
            self.logger.redactor(arg) if isinstance(arg, str) else arg for arg in error.args
        )
        return error

    def receive(self, event: str, timeout: float | None = None) -> Service:
        """Handle one event; an event without a ``receive_<event>`` method is ignored."""
        self.event = str(event or "")
        handler = self._handler(self.event)
        if handler is None:
            self.logger.info(self.ignoring_message(self.event))
            return self
        self.logger.info(f"Sending :{self.event} using {self.title}")
        if self.white_listed:
            self.logger.debug(f"Settings: {self.loggable_data()}")
        limit = self._time_limit(handler, timeout)
        self.deadline = time.monotonic() + limit

        def checked_handler() -> Any:
            self.check_address_settings()
            return handler()

        try:
            run_with_time_limit(checked_handler, limit, f"{self.title} :{self.event}")
        except AhaServiceError as error:
            self._redact(error)
            raise
        except OSError as error:  # transport failures from clients other than self.http
            raise self._redact(_transport_error(error)) from error
        finally:
            if self._http is not None:
                self._http.close()
        return self


def _handler_of(owner: Any, event: str) -> Any:
    """The method (of a service, or a function of its class) that handles ``event``."""
    if not _EVENT_NAME.match(event):
        return None
    return getattr(owner, f"receive_{event}", None) or getattr(owner, "receive_event", None)


def _transport_error(error: OSError) -> AhaServiceError:
    requests = lean_import("requests")

    if isinstance(error, requests.exceptions.JSONDecodeError):
        # requests' JSON errors are OSErrors too, but the third party, not a setting, failed.
        return RemoteError(f"An answer that should be JSON is not: {error}", error)
    if isinstance(error, requests.exceptions.Timeout) and not isinstance(
        error, requests.exceptions.ConnectTimeout
    ):
        return RemoteError(str(error), error)
    return ConfigurationError(str(error), error)
