"""The console's app factory: server-rendered pages, one stylesheet, a little JavaScript."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from console import jobs_views
from console.views import blueprint
from services.core.jobs import JobSource
from services.core.registry import Registry

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(
    registry: Registry | None = None, root: Path = PROJECT_ROOT, jobs: JobSource | None = None
) -> Flask:
    """Build the console; ``registry`` is loaded on the first page that needs it. With
    ``jobs`` (the host's console) it shows the host's jobs too."""
    app = Flask(__name__)
    app.config["PROJECT_ROOT"] = root
    if registry is not None:
        app.extensions["aha_services_registry"] = registry
    app.register_blueprint(blueprint)
    if jobs is not None:
        app.extensions[jobs_views.SOURCE_KEY] = jobs
        app.register_blueprint(jobs_views.blueprint)
    app.jinja_env.globals["jobs_on"] = jobs is not None
    return app
