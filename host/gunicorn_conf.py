"""gunicorn settings of the intake: ``PORT`` (4580), ``HOST``, ``WEB_CONCURRENCY`` workers
of ``HOST_THREADS`` threads."""

import os

from host import job_relay

bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or 4580}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("HOST_THREADS") or 4)
worker_class = "gthread"
accesslog = "-" if os.environ.get("AHA_SERVICES_ACCESS_LOG") else None
# gunicorn's control socket lives at one fixed path per user: two hosts, or a host beside
# the development proxy, would take it from each other, and nothing here uses it.
control_socket_disable = True

# The workers' new jobs are added by the arbiter, for all of them (host/job_relay.py).
job_relay.start(os.environ)
pre_fork = job_relay.pre_fork
post_fork = job_relay.post_fork
child_exit = job_relay.child_exit
on_exit = job_relay.on_exit
