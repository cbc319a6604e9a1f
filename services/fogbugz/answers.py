"""FogBugz's XML answers, read with the standard library and nothing it would fetch.

An answer is bounded in size and may not declare a DTD, so that no entity is ever
expanded (however nested) nor any external one resolved. The parser itself refuses the
declaration, so an answer in another encoding (UTF-16) cannot slip one past a check
of its bytes; what is not a FogBugz ``<response>`` reads as None.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.parsers import expat

from services.core import RemoteError

MAX_ANSWER_BYTES = 10 * 1024 * 1024
# FogBugz's error codes for a token it does not take: 1 a refused logon, 3 not logged on.
CREDENTIAL_CODES = frozenset({"1", "3"})


class _Declared(ValueError):
    """The answer declares a DTD or an entity."""


def _refuse(*_: Any) -> int:
    raise _Declared


def _tree(content: bytes) -> ET.Element:
    """The document's root, built by an expat parser that stops at any declaration."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.Parse(content, True)
    return builder.close()


def parse(content: bytes) -> ET.Element | None:
    """The ``<response>`` element of an answer; None when the answer is not one."""
    if len(content) > MAX_ANSWER_BYTES:
        raise RemoteError(f"FogBugz answered more than {MAX_ANSWER_BYTES} bytes of XML")
    try:
        root = _tree(content)
    except (expat.ExpatError, _Declared):
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
