"""Trello: Aha! features become cards on a board, their requirements a checklist."""

from services.trello.selects import board_lists, boards
from services.trello.service import Trello

__all__ = ["Trello", "board_lists", "boards"]
