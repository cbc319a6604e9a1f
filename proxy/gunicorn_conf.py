"""gunicorn settings for the development proxy (``make serve``, ``honcho start``)."""

import os

# ngrok connects from this machine, so nothing else needs to reach the proxy.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '4567')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("PROXY_THREADS", "4"))
# Restart workers when a source file is saved; AHA_SERVICES_RELOAD=0 turns it off.
reload = os.environ.get("AHA_SERVICES_RELOAD", "1") != "0"
# Events may run for up to 310 s; the worker must outlive them.
timeout = 330
graceful_timeout = 10
accesslog = "-" if os.environ.get("AHA_SERVICES_ACCESS_LOG") else None
# The control socket lives at one fixed path per user; proxies running side by side
# (a second checkout, the benchmarks) would fight over it, and nothing here uses it.
control_socket_disable = True
