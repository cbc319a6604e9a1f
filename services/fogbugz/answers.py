"""FogBugz's XML answers, read with the standard library and nothing it would fetch.

An answer is bounded in size and may not declare a DTD, so that no entity is ever
expanded (however nested) nor any external one resolved; what is not a FogBugz
``<response>`` reads as None.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from services.core import RemoteError

MAX_ANSWER_BYTES = 10 * 1024 * 1024
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# FogBugz's error codes for a token it does not take: 1 a refused logon, 3 not logged on.
CREDENTIAL_CODES = frozenset({"1", "3"})


def parse(content: bytes) -> ET.Element | None:
    """The ``<response>`` element of an answer; None when the answer is not one."""
    if len(content) > MAX_ANSWER_BYTES:
        raise RemoteError(f"FogBugz answered more than {MAX_ANSWER_BYTES} bytes of XML")
    if _DECLARATION.search(content):
        return None
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    return root if root.tag == "response" else None


def error_code(root: ET.Element | None) -> str | None:
    """The code of the answer's ``<error>``; None when it reports none."""
    error = root.find("error") if root is not None else None
    return None if error is None else str(error.get("code") or "")


def fields(element: ET.Element) -> dict[str, Any]:
    """An element's attributes and the text of its simple children, as FogBugz names them."""
    found: dict[str, Any] = dict(element.attrib)
    for child in element:
        if len(child) == 0:
            found[child.tag] = child.text or ""
    return found


def records(root: ET.Element, path: str) -> list[dict[str, Any]]:
    """The fields of each element at ``path`` (``projects/project``)."""
    return [fields(element) for element in root.findall(path)]


def case(root: ET.Element) -> dict[str, Any] | None:
    """The first case of an answer (``search`` lists them, ``new`` and ``edit`` give one),
    with the names of the files of every one of its events."""
    element = root.find("cases/case")
    if element is None:
        element = root.find("case")
    if element is None:
        return None
    found = fields(element)
    found["tags"] = [tag.text or "" for tag in element.findall("tags/tag")]
    found["file_names"] = sorted(
        {
            name.text or ""
            for name in element.findall("events/event/rgAttachments/attachment/sFileName")
        }
    )
    return found
