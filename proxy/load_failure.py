"""The proxy's answer while its own code does not load (a save left a file broken): a
JSON 500 naming the error, from the worker (the app did not import) and from the serving
path (the Flask app could not be built) alike. Nothing here imports ``services``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


def could_not_load(error: BaseException) -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """A WSGI app that answers every request with ``error``."""
    message = f"The proxy could not load: {type(error).__name__}: {error}"
    body = json.dumps({"error": message}).encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app
