"""Reload on save: gunicorn's arbiter watches the source files and reloads gracefully.

A save (a changed, added or removed ``.py`` file under ``services/`` or ``proxy/``)
makes the arbiter start new workers on the new code and retire the old ones: they
take no new request, and an event they are running finishes on the code it started
with. gunicorn's own reloader works inside each worker instead, which leaves no
worker taking requests while a long event runs, and sees no new file.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Checked twice a second; a change is acted on once the files have stood still this long,
# so that an editor's save in several writes makes one reload.
POLL_SECONDS = 0.5
SETTLE_SECONDS = 0.1
WATCHED_PACKAGES = ("services", "proxy")

Snapshot = dict[str, tuple[int, int]]


def package_roots(names: Iterable[str] = WATCHED_PACKAGES) -> list[Path]:
    """Where the packages' sources live, found without importing them."""
    roots: list[Path] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(location) for location in spec.submodule_search_locations)
    return roots


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Modification time and size of every ``.py`` file under ``roots``."""
    files: Snapshot = {}
    for root in roots:
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = [d for d in subdirectories if not d.startswith((".", "__"))]
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    try:
                        status = os.stat(path)
                    except OSError:  # removed while we looked
                        continue
                    files[path] = (status.st_mtime_ns, status.st_size)
    return files


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    """Files changed, added or removed between two snapshots."""
    paths = before.keys() | after.keys()
    return sorted(path for path in paths if before.get(path) != after.get(path))


class SourceWatcher(threading.Thread):
    """Calls ``on_change(paths)`` after the sources under ``roots`` changed."""

    def __init__(self, roots: list[Path], on_change: Callable[[list[str]], None]):
        super().__init__(name="aha-services-reloader", daemon=True)
        self.roots = roots
        self.on_change = on_change
        self.stopped = threading.Event()

    def run(self) -> None:
        before = snapshot(self.roots)
        while not self.stopped.wait(POLL_SECONDS):
            after = snapshot(self.roots)
            if after == before:
                continue
            while not self.stopped.wait(SETTLE_SECONDS):
                settled = snapshot(self.roots)
                if settled == after:
                    break
                after = settled
            self.on_change(changed_files(before, after))
            before = after

    def stop(self) -> None:
        self.stopped.set()


_watcher: SourceWatcher | None = None


def watch(arbiter: Any) -> None:
    """Start watching (once per arbiter process); each change sends the arbiter SIGHUP."""
    global _watcher
    if _watcher is not None:
        return
    roots = package_roots()

    def reload(paths: list[str]) -> None:
        shown = ", ".join(os.path.relpath(path) for path in paths[:5])
        more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        arbiter.log.info("Reloading: %s changed%s", shown, more)
        os.kill(os.getpid(), signal.SIGHUP)

    _watcher = SourceWatcher(roots, reload)
    _watcher.start()
    arbiter.log.info("Reloading on save of %s", ", ".join(str(root) for root in roots))
