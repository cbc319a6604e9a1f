"""The settings form's remote selects, from what ``installed`` keeps in ``meta_data.boards``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.core.kits.tracker import labelled


def boards(meta_data: Any, data: Any) -> list[list[Any]]:
    """``[name, id]`` of every board the token can see, sorted by name."""
    return labelled(meta_data.get("boards") or [], "name", "id")


def board_lists(meta_data: Any, data: Any) -> list[list[Any]]:
    """``[name, id]`` of the chosen board's open lists, in the board's order."""
    board_id = str(data.get("board") or "")
    for board in meta_data.get("boards") or []:
        if board_id and str(board.get("id")) == board_id:
            return [[item.get("name"), item.get("id")] for item in board.get("lists") or []]
    return []


def open_lists(board: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The board's lists that are not archived, left to right, as ``{id, name}``."""
    lists = [item for item in board.get("lists") or [] if not item.get("closed")]
    if all(isinstance(item.get("pos"), int | float) for item in lists):
        lists.sort(key=lambda item: item["pos"])
    return [{"id": item.get("id"), "name": item.get("name")} for item in lists]
