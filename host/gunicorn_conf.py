"""gunicorn settings of the intake: ``PORT`` (4580), ``HOST``, ``WEB_CONCURRENCY`` workers
of ``HOST_THREADS`` threads."""

import os

bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or 4580}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("HOST_THREADS") or 4)
worker_class = "gthread"
accesslog = "-" if os.environ.get("AHA_SERVICES_ACCESS_LOG") else None
# gunicorn's control socket lives at one fixed path per user: two hosts, or a host beside
# the development proxy, would take it from each other, and nothing here uses it.
control_socket_disable = True
