"""Aha! OAuth tokens of the command line, one per account, in the user's config directory.

The file (``~/.config/aha-services/token.json`` on Linux, the platform's equivalent
elsewhere) is readable by its owner only: it is written afresh with mode 0600 in a
directory of mode 0700, and replaced whole so that a crash never leaves half a token.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.core.errors import ConfigurationError

APP_NAME = "aha-services"
TOKEN_FILE = "token.json"
# A token this close to its expiry is refreshed rather than used.
EXPIRY_MARGIN = 60.0
_KEPT = ("access_token", "refresh_token", "token_type", "expires_at", "scope")


def default_token_path() -> Path:
    """``token.json`` in the user's config directory for aha-services."""
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False) / TOKEN_FILE


def is_expired(token: Mapping[str, Any], now: float | None = None) -> bool:
    """True when the token says when it expires and that moment is (nearly) here."""
    expires_at = token.get("expires_at")
    if not expires_at:
        return False
    return float(expires_at) - EXPIRY_MARGIN <= (time.time() if now is None else now)


def _well_formed(token: Mapping[str, Any]) -> bool:
    """Text tokens and a finite expiry time: what ``put`` writes, and nothing a hand edit
    could turn into a crash later."""
    texts = (token.get(key) for key in ("access_token", "refresh_token", "token_type"))
    expires_at = token.get("expires_at")
    return all(value is None or isinstance(value, str) for value in texts) and (
        expires_at is None
        or (
            isinstance(expires_at, int | float)
            and not isinstance(expires_at, bool)
            and math.isfinite(expires_at)
        )
    )


class TokenStore:
    """Tokens by account address (``https://acme.aha.io``)."""

    def __init__(self, path: Path | None = None):
        self.path = path or default_token_path()

    def get(self, account: str) -> dict[str, Any] | None:
        token = self._accounts().get(account)
        if not isinstance(token, Mapping) or not token.get("access_token"):
            return None
        if not _well_formed(token):
            raise ConfigurationError(
                f"The token file {self.path} holds a token for {account} that cannot be "
                "read: delete it and log in again"
            )
        return dict(token)

    def put(self, account: str, token: Mapping[str, Any]) -> None:
        accounts = self._accounts()
        accounts[account] = {key: token[key] for key in _KEPT if token.get(key) is not None}
        self._write(accounts)

    def forget(self, account: str) -> bool:
        """Drop the account's token; False when there was none."""
        accounts = self._accounts()
        if account not in accounts:
            return False
        del accounts[account]
        self._write(accounts)
        return True

    def _accounts(self) -> dict[str, Any]:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"The token file {self.path} cannot be read ({type(error).__name__}): "
                "delete it and log in again"
            ) from error
        accounts = document.get("accounts") if isinstance(document, dict) else None
        return dict(accounts) if isinstance(accounts, dict) else {}

    def _write(self, accounts: Mapping[str, Any]) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".token-", suffix=".tmp")
        try:
            os.chmod(temporary, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"accounts": dict(accounts)}, handle, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
