"""The console's app factory: server-rendered pages, one stylesheet, a little JavaScript."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from console.views import blueprint
from services.core.registry import Registry

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(registry: Registry | None = None, root: Path = PROJECT_ROOT) -> Flask:
    """Build the console; ``registry`` is loaded on the first page that needs it."""
    app = Flask(__name__)
    app.config["PROJECT_ROOT"] = root
    if registry is not None:
        app.extensions["aha_services_registry"] = registry
    app.register_blueprint(blueprint)
    return app
