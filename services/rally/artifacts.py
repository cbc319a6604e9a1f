"""Aha! features and requirements as Rally user stories or portfolio items: their fields,
parent, release, owner, tags, files and rank."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.core import AhaServiceError, RemoteError
from services.core.markup import reference_num_to_resource_type
from services.rally.attachments import Attachments
from services.rally.elements import USER_STORY, body_key, detail_kind, element_names, type_path
from services.rally.releases import Releases
from services.rally.tags import Tags
from services.rally.users import Users

if TYPE_CHECKING:
    from services.rally.service import Rally


def object_ref(element: str, object_id: Any) -> str:
    return f"/{type_path(element)}/{quote(str(object_id), safe='')}"


def default_fields(setting: Any) -> dict[str, Any]:
    """``[{field, value}]`` as the fields every new object of a kind gets."""
    entries = setting if isinstance(setting, list | tuple) else []
    return {
        str(entry["field"]): entry.get("value")
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("field")
    }


class Artifacts:
    """One event's sending of records; the checks ran when it was built."""

    def __init__(self, service: Rally):
        self.service = service
        self.data = service.data
        self.elements = dict(
            zip(
                ("feature", "requirement"),
                element_names(self.data.get("feature_and_requirement_type")),
                strict=True,
            )
        )
        self.users = Users(service)
        self.tags = Tags(service)
        self.files = Attachments(service)
        self.releases = Releases(service)

    # --- events ---------------------------------------------------------------------------

    def send_feature(self, feature: Any) -> str:
        release = self.release_ref(feature)
        parent = self.send(feature, "feature", release, None)
        for requirement in feature.get("requirements") or []:
            self.send(requirement, "requirement", release, parent)
        return parent

    def send_requirement(self, requirement: Any) -> str:
        feature = requirement.get("feature") or {}
        release = self.release_ref(feature)
        parent = self.service.link(feature, "id") or self.send(feature, "feature", release, None)
        return self.send(requirement, "requirement", release, str(parent))

    def release_ref(self, feature: Any) -> str | None:
        """The linked release of the feature while Rally still has it."""
        if self.service.flag("dont_send_releases"):
            return None
        release_id = self.service.link(feature.get("release") or {}, "id")
        if not release_id or not self.releases.exists(release_id):
            return None
        return f"/release/{quote(str(release_id), safe='')}"

    # --- one object -----------------------------------------------------------------------

    def send(self, record: Any, kind: str, release: str | None, parent: str | None) -> str:
        """The record's object, updated when linked, created when not or when it is gone."""
        element = self.elements[kind]
        return self.service.create_or_update(
            self.service.link(record, "id"),
            update=lambda object_id: self.update(object_id, record, kind, release, parent),
            create=lambda: self.create(record, kind, release, parent),
            what=body_key(element),
        )

    def create(self, record: Any, kind: str, release: str | None, parent: str | None) -> str:
        element = self.elements[kind]
        fields = {
            **default_fields(self.data.get(f"{kind}_default_fields")),
            **self.fields(record, kind, release, parent, None),
        }
        answer = self.service.write(
            "PUT",
            f"/{type_path(element)}/create",
            {body_key(element): fields},
            self.service.workspace_params(),
        )
        created = ((answer or {}).get("CreateResult") or {}).get("Object") or {}
        if not created.get("ObjectID"):
            raise RemoteError(
                f"Rally answered PUT /{type_path(element)}/create without an ObjectID"
            )
        object_id = str(created["ObjectID"])
        self.service.write_links(
            record,
            {
                "id": object_id,
                "formatted_id": created.get("FormattedID"),
                "url": self.service.detail_url(detail_kind(element), object_id),
            },
        )
        self.service.logger.info(f"Created Rally {created.get('FormattedID') or object_id}")
        self.files.send(object_ref(element, object_id), object_id, record, created=True)
        rank = self.rank_params(record, element) if kind == "feature" else {}
        if rank:
            self.service.write(
                "POST",
                object_ref(element, object_id),
                {body_key(element): {}},
                {**self.service.workspace_params(), **rank},
            )
        return object_id

    def update(
        self, object_id: Any, record: Any, kind: str, release: str | None, parent: str | None
    ) -> str:
        element = self.elements[kind]
        path = object_ref(element, object_id)
        fields = self.fields(record, kind, release, parent, object_id)
        rank = self.rank_params(record, element) if kind == "feature" else {}
        self.service.write(
            "POST", path, {body_key(element): fields}, {**self.service.workspace_params(), **rank}
        )
        self.service.logger.info(
            f"Updated Rally {self.service.link(record, 'formatted_id') or object_id}"
        )
        self.files.send(path, object_id, record, created=False)
        return str(object_id)

    # --- fields ---------------------------------------------------------------------------

    def fields(
        self, record: Any, kind: str, release: str | None, parent: str | None, linked: Any
    ) -> dict[str, Any]:
        element = self.elements[kind]
        description = (record.get("description") or {}).get("body") or ""
        fields: dict[str, Any] = {
            "Name": self.service.fit_title("Name", self.service.record_title(record)),
            "Description": self.service.fit_text("Description", description, url=record.get("url")),
            "Project": f"/project/{quote(str(self.data.get('project')), safe='')}",
        }
        workspace = self.service.workspace_ref()
        if workspace:
            fields["Workspace"] = workspace
        if kind == "feature" and element != USER_STORY:
            fields["PlannedStartDate"] = record.get("start_date") or None
            fields["PlannedEndDate"] = record.get("due_date") or None
        owner = self.users.owner(record)
        if owner:
            fields["Owner"] = owner
        if self.service.flag("send_tags"):
            fields["Tags"] = self.tags.refs(record)
        if release and self.may_have_release(record, kind, element, linked):
            fields["Release"] = release
        if parent:
            fields.update(self.parent_fields(parent))
        return fields

    def parent_fields(self, parent: str) -> dict[str, str]:
        """A requirement under its feature: a story under a portfolio item is in its
        ``PortfolioItem``; anything else is its ``Parent``."""
        feature, requirement = self.elements["feature"], self.elements["requirement"]
        if feature != USER_STORY and requirement == USER_STORY:
            return {"PortfolioItem": object_ref(feature, parent)}
        return {"Parent": object_ref(feature, parent)}

    def may_have_release(self, record: Any, kind: str, element: str, linked: Any) -> bool:
        """Rally refuses a Release on a story that has child stories."""
        if element != USER_STORY:
            return True
        if kind == "feature" and record.get("requirements"):
            return False
        if not linked:
            return True
        answer = self.service.tracker_json(
            "GET", f"{object_ref(element, linked)}/Children", params={"pagesize": 1}
        )
        children = ((answer or {}).get("QueryResult") or {}).get("TotalResultCount") or 0
        return int(children) == 0

    # --- rank -----------------------------------------------------------------------------

    def rank_params(self, record: Any, element: str) -> dict[str, str]:
        """``rankBelow``/``rankAbove`` the neighbour Aha! names; none when there is none or
        Aha! cannot say (ranking is best effort)."""
        try:
            answer = self.service.api.adjacent_integration_fields(
                reference_num_to_resource_type(record.get("reference_num")),
                record.get("reference_num"),
                self.data.get("integration_id"),
            )
        except AhaServiceError as error:
            self.service.logger.debug(f"No neighbour to rank by: {error}")
            return {}
        neighbours = answer.get("items") or answer.get("adjacent_fields") or [answer]
        neighbour = neighbours[0] if neighbours else {}
        other = self.service.get_integration_field(
            (neighbour or {}).get("integration_fields"), "id"
        )
        direction = (neighbour or {}).get("direction")
        if not other or direction not in ("before", "after"):
            return {}
        side = "rankBelow" if direction == "before" else "rankAbove"
        return {side: object_ref(element, other)}
