"""The intake as a WSGI application, set up from the environment (gunicorn loads this)."""

from host.config import load_config
from host.engine import build_engine
from host.intake import create_app

app = create_app(load_config(), build_engine())
