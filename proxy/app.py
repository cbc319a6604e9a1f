"""The Flask app factory: JSON in, JSON out, never an HTML error page."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from proxy import settings
from proxy.fast_path import ProxyFastPath
from proxy.views import blueprint
from services.core.logger import configure_logging
from services.core.registry import Registry, default_registry

_log = logging.getLogger("services.proxy")


class _OrderedJSON(DefaultJSONProvider):
    """Answers keep their keys in the order the service wrote them."""

    sort_keys = False


def create_app(registry: Registry | None = None) -> Flask:
    """Build the proxy; ``registry`` defaults to every service this process can load.

    The Flask app with the fast path in its ``wsgi_app`` (tests drive it with Flask's
    client); gunicorn serves ``proxy.serving.serving_app()``, which builds the Flask
    app only when a request needs it."""
    configure_logging()
    registry = default_registry() if registry is None else registry
    registry.log_failures(_log)
    app = flask_app(registry)
    if not app.debug:  # Flask's debug answers are indented; the fast path's never are
        app.wsgi_app = ProxyFastPath(app.wsgi_app, registry, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    return app


def flask_app(registry: Registry) -> Flask:
    """The Flask app alone: the three endpoints, and JSON for every error."""
    app = Flask(__name__)
    app.json = _OrderedJSON(app)
    # gunicorn's worker refuses a larger body before reading it; this covers other servers.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body()
    app.extensions["aha_services_registry"] = registry
    app.register_blueprint(blueprint)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        # Flask hands over only exceptions that carry a status code.
        return jsonify(error=error.description or error.name), error.code or 500

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response, int]:
        _log.exception("Unexpected error in the proxy")
        return jsonify(error=f"Internal error: {type(error).__name__}"), 500

    return app
