"""The worker: a huey consumer whose threads run integrations' jobs, with a sweeper
that keeps at-least-once true when a worker or a queued task is lost."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from types import FrameType

from huey.consumer import ConsumerStopped

from host.config import HostConfig
from host.dispatch import DEFAULT_LEASE_TTL, Dispatcher
from host.engine import Engine
from host.tasks import bind
from services.core.aha_api import API_URL_VARIABLE

LEASE_VARIABLE = "AHA_SERVICES_LEASE_SECONDS"
SWEEP_VARIABLE = "AHA_SERVICES_SWEEP_SECONDS"
STOP_VARIABLE = "AHA_SERVICES_STOP_SECONDS"
DEFAULT_SWEEP = 15.0
# How long a stopping worker lets its running events finish (Docker waits 10 s before
# it kills, systemd 90 s, Kubernetes 30 s by default; honcho 5 s).
DEFAULT_STOP = 25.0
PURGE_EVERY = 3600.0
# How long an idle worker waits between looks at a SQLite queue, at most.
IDLE_POLL = 0.25

_log = logging.getLogger("host.worker")


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name) or default)
    except ValueError:
        value = -1.0
    if not 0.05 <= value <= 3600:
        raise SystemExit(f"{name}: a number of seconds from 0.05 to 3600")
    return value


class StopSignals:
    """SIGTERM (what honcho, systemd, Docker and Kubernetes send) and SIGINT (Ctrl-C)
    both ask for a normal stop: no job is started any more, and the running ones may
    finish. A second signal asks to stop at once."""

    def __init__(self, stop: Callable[[], None]):
        self._stop = stop
        self.received: list[int] = []

    def install(self) -> None:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._handle)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.received.append(number)
        self._stop()

    @property
    def again(self) -> bool:
        return len(self.received) > 1


def finish_running(dispatcher: Dispatcher, bound: float, signals: StopSignals) -> bool:
    """Let the running events finish, for ``bound`` seconds at most or until a second
    signal; whether they all did. A job cut short runs again when a worker starts."""
    deadline = time.monotonic() + bound
    while not dispatcher.wait_idle(0.05):
        if signals.again or time.monotonic() >= deadline:
            _log.warning("stopping with jobs still running: they run again when a worker starts")
            return False
    return True


class Sweeper(threading.Thread):
    """Now and then: queue integrations nobody holds that have a job due, and drop
    finished jobs older than the retention."""

    def __init__(self, dispatcher: Dispatcher, interval: float, retention_days: float):
        super().__init__(name="sweeper", daemon=True)
        self.dispatcher, self.interval, self.retention_days = dispatcher, interval, retention_days
        self._last_purge = 0.0

    def run(self) -> None:
        while not self.dispatcher.stopping.wait(self.interval):
            try:
                self.dispatcher.sweep()
                if time.monotonic() - self._last_purge >= PURGE_EVERY:
                    self._last_purge = time.monotonic()
                    self.dispatcher.store.purge(time.time() - self.retention_days * 86400)
            except Exception as error:
                _log.warning("sweep failed: %s", error)


def run_worker(
    config: HostConfig, engine: Engine, threads: int, environ: Mapping[str, str] | None = None
) -> None:
    """Run until stopped. SIGTERM or SIGINT lets the running events finish, within
    ``AHA_SERVICES_STOP_SECONDS``; a second one, or SIGKILL, leaves them to be run again
    when a worker starts."""
    environ = os.environ if environ is None else environ
    stop_bound = _seconds(environ, STOP_VARIABLE, DEFAULT_STOP)
    if config.aha.api_url and not os.environ.get(API_URL_VARIABLE):
        os.environ[API_URL_VARIABLE] = config.aha.api_url
    dispatcher = Dispatcher(
        config,
        engine.store,
        engine.enqueue,
        lease_ttl=_seconds(environ, LEASE_VARIABLE, DEFAULT_LEASE_TTL),
    )
    bind(dispatcher)
    recovered = dispatcher.recover()
    _log.info(
        "worker %s on %s: %d integration(s) with jobs to run",
        dispatcher.owner,
        engine.where,
        len(recovered),
    )
    Sweeper(
        dispatcher, _seconds(environ, SWEEP_VARIABLE, DEFAULT_SWEEP), config.retention_days
    ).start()
    consumer = engine.huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=False,
        initial_delay=0.02,
        backoff=1.5,
        max_delay=IDLE_POLL,
        scheduler_interval=1,
        check_worker_health=True,
        shutdown_timeout=stop_bound,
    )

    def stop_when_told() -> None:
        consumer.stop_flag.wait()
        dispatcher.stopping.set()

    threading.Thread(
        target=stop_when_told,
        name="stop-watch",
        daemon=True,
    ).start()

    def stop() -> None:
        dispatcher.stopping.set()
        consumer.stop_flag.set()

    signals = StopSignals(stop)
    # huey's consumer stops at once on SIGTERM; its own handlers are replaced once it runs.
    consumer.start()
    signals.install()
    checked = time.monotonic()
    try:
        while True:
            checked = consumer.loop(checked)
    except ConsumerStopped:
        pass
    finally:
        stop()
    _log.info("stopping: letting running events finish (at most %g s)", stop_bound)
    if finish_running(dispatcher, stop_bound, signals):
        _log.info("stopped")
