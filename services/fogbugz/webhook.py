"""A FogBugz URL trigger (``?case_number={CaseNumber}``): the case's status category back
to the Aha! record linked to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.core import ConfigurationError

if TYPE_CHECKING:
    from services.fogbugz.service import Fogbugz

TEST_CONNECTION = "press Test connection to read FogBugz's statuses again"


def category(service: Fogbugz, case: dict[str, Any]) -> str:
    """Aha!'s status category for a case, from its status's work-done and resolved flags."""
    status = (service.meta_data.get("statuses") or {}).get(str(case.get("ixStatus")))
    if not status:
        raise ConfigurationError(
            f"FogBugz status {case.get('ixStatus')} of case {case.get('ixBug')} is not "
            f"known; {TEST_CONNECTION}"
        )
    work_done = str(status.get("fWorkDone")).lower() == "true"
    resolved = str(status.get("fResolved")).lower() == "true"
    if not work_done and not resolved:
        return "in_progress"
    if work_done and resolved:
        return "shipped" if str(case.get("fOpen")).lower() == "false" else "done"
    if resolved:
        return "will_not_do"
    raise ConfigurationError(
        f"FogBugz status '{status.get('sStatus')}' ({status.get('ixStatus')}) is work done "
        f"but not resolved, which Aha! has no category for; {TEST_CONNECTION}"
    )


def apply(service: Fogbugz, payload: Any) -> None:
    """Find the case, then the one record linked to it, then set its status category."""
    number = str(payload.get("case_number") or "").strip()
    if not number:
        service.logger.info("A FogBugz webhook without a case_number; nothing to do")
        return
    case = service.search(number)
    if not case:
        service.logger.warn(f"FogBugz has no case {number}; nothing changed")
        return
    linked = service.find_linked_record("number", case.get("ixBug"))
    if linked is None:
        return
    kind, record = linked
    service.update_linked_record(
        kind, record, {"workflow_status": {"category": category(service, case)}}
    )
