"""Rally's webhooks for this integration: one per watched project, replaced when the
integration is saved, removed when it is deleted.

Rally's webhook API takes the API key (``ZSESSIONID``), or a password sign-in's security
token and session cookie; never Basic credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import MissingSetting, switched_on
from services.core.http import json_body
from services.rally.service import INTEGRATION_HEADERS, WEBHOOK_API_PATH

if TYPE_CHECKING:
    from services.rally.service import Rally

PROJECT_ATTRIBUTE = "ae8ecc9f-b9a0-42a4-a6e3-c83d7f8a7070"
PAGE_SIZE = 200
MAX_PAGES = 50


class WebhookRegistration:
    def __init__(self, service: Rally):
        self.service = service

    def callback_url(self) -> str:
        url = str(self.service.data.get("callback_url") or "").strip()
        if not url:
            raise MissingSetting("The Aha! callback URL (callback_url) is not set")
        return url

    def request(
        self,
        method: str,
        path: str = "",
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        def send(key: dict[str, Any]) -> Any:
            response = self.service.http.request(
                method,
                self.service.webhook_api_url() + path,
                params={**(params or {}), **key},
                json=body,
                headers={**INTEGRATION_HEADERS, **self.service.key_headers()},
                sends_credentials=True,
            )
            self.service.check_tracker_response(response, method, WEBHOOK_API_PATH + path)
            return json_body(response, "Rally") if response.content.strip() else None

        return self.service.with_key(send)

    def listed(self) -> list[Any]:
        """Every webhook the account sees, page after page (the last one included)."""
        webhooks: list[Any] = []
        start = 1
        for _ in range(MAX_PAGES):
            page = self.request("GET", params={"start": start, "pagesize": PAGE_SIZE}) or {}
            results = list(page.get("Results") or [])
            webhooks.extend(results)
            start += PAGE_SIZE
            if not results or start > int(page.get("TotalResultCount") or 0):
                break
        return webhooks

    def remove(self) -> int:
        """Delete this integration's webhooks (those posting to its callback URL)."""
        target = self.callback_url()
        mine = [w for w in self.listed() if w.get("TargetUrl") == target]
        for webhook in mine:
            self.request("DELETE", f"/{quote(str(webhook.get('ObjectUUID')), safe='')}")
        if mine:
            self.service.logger.info(f"Deleted {len(mine)} Rally webhooks")
        return len(mine)

    def replace(self) -> None:
        """This integration's webhooks made anew: one per project watched."""
        target = self.callback_url()
        projects = self.watched_projects()
        self.remove()
        disabled = not switched_on(self.service.data.get("integration_enabled"), default=True)
        name = f"Aha! Rally Integration {self.service.data.get('integration_id')}"
        for project in projects:
            self.request(
                "POST",
                body={
                    "AppName": "Aha!",
                    "TargetUrl": target,
                    "Name": name,
                    "Expressions": [
                        {
                            "AttributeID": PROJECT_ATTRIBUTE,
                            "Operator": "=",
                            "Value": project.get("_refObjectUUID"),
                        }
                    ],
                    "Disabled": disabled,
                },
            )
        self.service.logger.info(f"Installed Rally webhooks for {len(projects)} projects")

    def watched_projects(self) -> list[Any]:
        """The chosen project and every project under it, as Install read them."""
        projects = list(self.service.meta_data.get("projects") or [])
        chosen = str(self.service.data.get("project"))
        root = next((p for p in projects if str(p.get("ObjectID")) == chosen), None)
        if root is None or not root.get("_refObjectUUID"):
            raise MissingSetting(
                f"The Rally project {chosen} (project) was not read by Install; press Install "
                "and choose the project again"
            )
        watched, queue, seen = [], [root], set()
        while queue:
            project = queue.pop(0)
            uuid = project.get("_refObjectUUID")
            if uuid in seen:
                continue
            seen.add(uuid)
            watched.append(project)
            queue.extend(p for p in projects if p.get("ParentUUID") == uuid)
        return watched
