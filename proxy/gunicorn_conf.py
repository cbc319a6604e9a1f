"""gunicorn settings for the development proxy (``make serve``, ``honcho start``).

Read by gunicorn's arbiter: nothing here imports ``services``, so that a reload
starts workers on freshly imported service code.
"""

import os
from typing import Any

from proxy import event_relay, reloader, settings

# .env as the command line reads it (python-dotenv): a variable already set wins.
if os.path.exists(".env"):
    from dotenv import load_dotenv

    load_dotenv(".env", override=False)

# ngrok connects from this machine, so nothing else needs to reach the proxy.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '4567')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("PROXY_THREADS", "4"))
# Reads each request whole in its main loop before a thread runs it, and answers what
# it refuses in JSON (see proxy/worker.py).
worker_class = "proxy.worker.ProxyWorker"
# Connections per worker, idle and slow ones included: they hold no thread.
worker_connections = 256
# Idle keep-alive connections cost no thread, so they may stay a while.
keepalive = 15
# gunicorn's limits, answered 414 and 431: a 4 KB request line, 8 KB per header.
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 100
# Workers reload on save through the arbiter (proxy/reloader.py), not gunicorn's own
# reloader; AHA_SERVICES_RELOAD=0 turns it off.
reload = False
# Events may run for up to 600 s; the worker's heartbeat does not wait on them.
timeout = 330
# How long the arbiter waits for old workers after a reload before it handles the next
# signal (a second save), and how long SIGTERM lets running events finish.
graceful_timeout = 1
accesslog = "-" if os.environ.get("AHA_SERVICES_ACCESS_LOG") else None
loglevel = os.environ.get(settings.LOG_LEVEL_SETTING, "info").strip().lower() or "info"
# The control socket lives at one fixed path per user; proxies running side by side
# (a second checkout, the benchmarks) would fight over it, and nothing here uses it.
control_socket_disable = True

# Wrong settings stop the proxy at start, naming the setting.
settings.max_body()
settings.request_timeout()
event_relay.relay()

# The workers relay their event log entries to the arbiter, which stores them.
pre_fork = event_relay.pre_fork
post_fork = event_relay.post_fork
worker_exit = event_relay.worker_exit
child_exit = event_relay.child_exit
on_exit = event_relay.on_exit


def when_ready(server: Any) -> None:
    """Once the arbiter is up: watch the sources, unless reloading is off."""
    if settings.reload_enabled():
        reloader.watch(server)
