"""The intake as a WSGI application, set up from the environment (gunicorn loads this)."""

from host import job_relay
from host.config import load_config
from host.engine import build_engine
from host.intake import create_app

engine = build_engine()
job_relay.attach(engine.store)
app = create_app(load_config(), engine)
