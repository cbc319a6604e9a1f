"""Features and requirements as bugs: created once, then only their summary updated, so
that what triagers set in Bugzilla (severity, priority, version) stays; the bugs of a
feature's requirements block the feature's bug."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.bugzilla.attachments import send_files
from services.core import ConfigurationError, RemoteError
from services.core.markup import html_to_markdown

if TYPE_CHECKING:
    from services.bugzilla.service import Bugzilla

# The bug fields a product's defaults fill, by the name Bugzilla's field list gives them.
DEFAULT_BUG_FIELDS = {
    "version": "version",
    "bug_severity": "severity",
    "rep_platform": "platform",
    "op_sys": "op_sys",
    "priority": "priority",
}


def bug_id_value(value: Any) -> Any:
    """A bug id as Bugzilla's JSON holds it: a number when it is one."""
    text = str(value).strip()
    return int(text) if text.isdigit() else value


def bug_path(bug_id: Any) -> str:
    return f"/bug/{quote(str(bug_id), safe='')}"


class BugSync:
    """One event's bugs, in the product and component the settings chose."""

    def __init__(self, service: Bugzilla):
        self.service = service
        self.product, self.component = self.chosen_product()

    def chosen_product(self) -> tuple[Any, Any]:
        """The chosen product and component as ``installed`` loaded them, checked before
        anything is sent."""
        data, meta_data = self.service.data, self.service.meta_data
        for name in ("product", "component"):
            if not data.get(name):
                raise ConfigurationError(
                    f"The Bugzilla {name} is not set; choose one in the settings"
                )
        product = next(
            (p for p in meta_data.get("products") or [] if str(p.get("id")) == str(data.product)),
            None,
        )
        if product is None:
            raise ConfigurationError(
                f"The Bugzilla product {data.product} is not loaded; press Test connection, "
                "then choose the product and component again"
            )
        component = next(
            (c for c in product.get("components") or [] if str(c.get("id")) == str(data.component)),
            None,
        )
        if component is None:
            raise ConfigurationError(
                f"The Bugzilla component {data.component} is not one of {product.get('name')}'s; "
                "press Test connection, then choose the component again"
            )
        return product, component

    # --- features and requirements -----------------------------------------------------------

    def send_feature(self, feature: Any) -> Any:
        """The feature's bug, then its requirements' bugs, which then block it."""
        feature_id, feature_created = self.send(feature)
        blockers = []
        for requirement in feature.get("requirements") or []:
            bug_id, created = self.send(requirement)
            if created or feature_created:
                blockers.append(bug_id_value(bug_id))
        if blockers:
            self.service.call("PUT", bug_path(feature_id), json={"depends_on": {"add": blockers}})
        return feature_id

    def send(self, record: Any) -> tuple[Any, bool]:
        """The record's bug id, and whether it was created now."""
        created: list[bool] = []

        def create() -> Any:
            created.append(True)
            return self.create(record)

        bug_id = self.service.create_or_update(
            self.service.link(record, "id"),
            update=lambda linked: self.update(linked, record),
            create=create,
            what="bug",
        )
        return bug_id, bool(created)

    def create(self, record: Any) -> Any:
        answer = self.service.call("POST", "/bug", json=self.new_bug(record)) or {}
        bug_id = answer.get("id")
        if not bug_id:
            raise RemoteError("Bugzilla answered POST /bug without a bug id")
        self.service.write_links(record, {"id": bug_id, "url": self.service.bug_url(bug_id)})
        send_files(self.service, bug_id, record, created=True)
        return bug_id

    def update(self, bug_id: Any, record: Any) -> Any:
        """Only the summary: the description is the bug's first comment, and the rest is
        Bugzilla's to change."""
        summary = self.service.fit_title("summary", self.service.record_title(record))
        self.service.call("PUT", bug_path(bug_id), json={"summary": summary})
        send_files(self.service, bug_id, record, created=False)
        self.service.logger.info(f"Updated Bugzilla bug {bug_id}")
        return bug_id

    def new_bug(self, record: Any) -> dict[str, Any]:
        defaults = (self.service.meta_data.get("defaults") or {}).get(self.product.get("name"))
        body: dict[str, Any] = {
            "product": self.product.get("name"),
            "component": self.component.get("name"),
            "summary": self.service.fit_title("summary", self.service.record_title(record)),
            "description": self.service.record_text(
                record, field="description", convert=html_to_markdown
            ),
        }
        for field, name in DEFAULT_BUG_FIELDS.items():
            value = (defaults or {}).get(field)
            if value:
                body[name] = value
        return body
