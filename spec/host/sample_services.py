"""Services the host specs run: they keep meta_data, fail in chosen ways, or hang."""

from __future__ import annotations

import threading
from typing import ClassVar

from services.core.errors import ConfigurationError
from services.core.service import Service

calls: list[tuple[str, object]] = []


class Counter(Service):
    """Counts events in meta_data and posts each payload's ``n``, with the count, to its
    ``url``."""

    title = "Counter"
    service_name = "counter"
    abstract: ClassVar[bool] = False

    def receive_create_feature(self) -> None:
        self.meta_data["count"] = int(self.meta_data.get("count") or 0) + 1
        calls.append(("counter", self.payload.get("n")))
        body = {"n": self.payload.get("n"), "count": self.meta_data["count"]}
        response = self.http_post(str(self.data.url), json=body)
        if response.status_code >= 300:
            from services.core.errors import RemoteError

            raise RemoteError(f"answered {response.status_code}")

    def receive_webhook(self) -> None:
        calls.append(("webhook", dict(self.payload)))


class Misconfigured(Service):
    title = "Misconfigured"
    service_name = "misconfigured"
    abstract: ClassVar[bool] = False

    def receive_create_feature(self) -> None:
        self.meta_data["seen"] = True
        raise ConfigurationError("Set the project")


# What holds ``Hangs``: set, and every hanging event returns.
released = threading.Event()


class Hangs(Service):
    """Keeps its payload's ``n`` in meta_data and says so, then hangs (3 s at most, until
    ``released``) unless the payload is ``quick``."""

    title = "Hangs"
    service_name = "hangs"
    abstract: ClassVar[bool] = False

    def receive_create_feature(self) -> None:
        calls.append(("hangs", (self.payload.get("n"), dict(self.meta_data))))
        self.meta_data["seen"] = self.payload.get("n")
        self.logger.info(f"Waiting on the tracker for {self.payload.get('n')}")
        if not self.payload.get("quick"):
            released.wait(3)
        calls.append(("hangs returned", self.payload.get("n")))


class Inspector(Service):
    """Records the request headers each webhook brought, and its payload."""

    title = "Inspector"
    service_name = "inspector"
    abstract: ClassVar[bool] = False
    intake_headers = ("X-Custom-Delivery",)

    def receive_webhook(self) -> None:
        calls.append(("inspector", (dict(self.request_headers), dict(self.payload))))


SERVICES = (Counter, Misconfigured, Hangs, Inspector)
