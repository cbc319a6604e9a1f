"""How the stores find jobs: by state, by integration, the open integrations, the counts,
and the old ones to purge; SQLite's without an index that a new job would write."""

import sqlite3
import time

import pytest

from host import sqlite_state
from host.jobs import DELIVERED, FAILED, QUEUED, RETRYING, RUNNING, Job
from host.sqlite_state import SqliteStateStore


def _stored(store, integration: str, state: str, received_at: float | None = None) -> Job:
    job = Job(integration, "webhook", {"integration": integration})
    if received_at is not None:
        job.received_at = received_at
    store.add_job(job)
    if state != QUEUED:
        job.state = state
        store.save(job)
    return job


@pytest.fixture
def mixed(engine):
    """Jobs of three integrations in every state, in the order stored."""
    plan = [
        ("a", DELIVERED),
        ("b", FAILED),
        ("a", DELIVERED),
        ("c", DELIVERED),
        ("b", RETRYING),
        ("a", RUNNING),
        ("b", QUEUED),
        ("a", QUEUED),
        ("c", FAILED),
    ]
    return engine.store, [_stored(engine.store, name, state) for name, state in plan]


def _ids(jobs) -> list[str]:
    return [job.id for job in jobs]


@pytest.mark.parametrize("state", [QUEUED, RUNNING, RETRYING, DELIVERED, FAILED])
def test_jobs_of_a_state_are_found_newest_first(mixed, state):
    store, jobs = mixed
    expected = [job.id for job in reversed(jobs) if job.state == state]
    assert _ids(store.jobs(state=state)) == expected
    assert _ids(store.jobs(state=state, limit=1)) == expected[:1]
    of_a = [job.id for job in reversed(jobs) if job.state == state and job.integration == "a"]
    assert _ids(store.jobs(state=state, integration="a")) == of_a


def test_jobs_of_an_integration_and_all_jobs_are_found_newest_first(mixed):
    store, jobs = mixed
    assert _ids(store.jobs(integration="b")) == [
        j.id for j in reversed(jobs) if j.integration == "b"
    ]
    assert _ids(store.jobs()) == _ids(reversed(jobs))
    assert store.jobs(state="unknown") == []


def test_counts_and_open_integrations_cover_every_state(mixed):
    store, _ = mixed
    assert store.state_counts() == {DELIVERED: 3, FAILED: 2, RETRYING: 1, RUNNING: 1, QUEUED: 2}
    assert store.integration_counts() == {
        "a": {DELIVERED: 2, RUNNING: 1, QUEUED: 1},
        "b": {FAILED: 1, RETRYING: 1, QUEUED: 1},
        "c": {DELIVERED: 1, FAILED: 1},
    }
    assert store.open_integrations() == ["a", "b"]


def test_an_empty_store_counts_nothing(engine):
    assert engine.store.state_counts() == {}
    assert engine.store.open_integrations() == []
    assert engine.store.jobs(state=QUEUED) == []
    assert engine.store.purge(time.time()) == 0


def test_purge_drops_the_finished_jobs_received_before_the_time(engine):
    store = engine.store
    old = time.time() - 86400
    kept = [
        _stored(store, "a", DELIVERED, old),
        _stored(store, "b", FAILED, old),
        _stored(store, "a", RETRYING, old),
        _stored(store, "a", DELIVERED),
        _stored(store, "b", FAILED),
    ]
    assert store.purge(time.time() - 3600) == 2
    assert _ids(store.jobs()) == _ids(reversed(kept[2:]))
    assert store.purge(time.time() + 1) == 2
    assert _ids(store.jobs()) == [kept[2].id]


# --- SQLite: what a new job writes, and how each read finds its rows ---------------------


def _indexes_of_jobs(path) -> dict[str, str | None]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'jobs'")
        return {name: sql for name, sql in rows if name != "jobs"}


def test_a_new_job_is_written_to_the_table_and_two_indexes(tmp_path):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    indexes = _indexes_of_jobs(store.path)
    assert sorted(indexes) == ["jobs_open", "jobs_taken", "sqlite_autoindex_jobs_1"]
    assert "WHERE state != 'queued'" in indexes["jobs_taken"]


def test_a_store_made_before_keeps_its_jobs_and_drops_the_indexes_it_no_longer_needs(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path)
    jobs = [
        _stored(store, "a", DELIVERED),
        _stored(store, "a", FAILED),
        _stored(store, "b", QUEUED),
    ]
    with sqlite3.connect(path) as db:  # the indexes a store made before had
        db.execute("DROP INDEX jobs_taken")
        db.execute("CREATE INDEX jobs_state ON jobs (state, seq)")
        db.execute("CREATE INDEX jobs_received ON jobs (received_at)")
    again = SqliteStateStore(path)
    assert "jobs_state" not in _indexes_of_jobs(path)
    assert "jobs_received" not in _indexes_of_jobs(path)
    assert _ids(again.jobs(state=FAILED)) == [jobs[1].id]
    assert _ids(again.jobs(state=QUEUED)) == [jobs[2].id]
    assert again.state_counts() == {DELIVERED: 1, FAILED: 1, QUEUED: 1}


def _plans(store: SqliteStateStore, read) -> list[str]:
    """What SQLite does for each statement that ``read`` runs."""
    statements: list[str] = []
    db, writing = store._connection(), store._writing_connection()
    for connection in (db, writing):
        connection.set_trace_callback(statements.append)
    try:
        read()
    finally:
        for connection in (db, writing):
            connection.set_trace_callback(None)
    statements = [s for s in statements if s.split()[0] in ("WITH", "SELECT", "DELETE")]
    return [
        " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}"))
        for statement in statements
    ]


@pytest.mark.parametrize(
    "read",
    [
        lambda store: store.jobs(state=FAILED),
        lambda store: store.jobs(state=RETRYING),
        lambda store: store.jobs(state=QUEUED),
        lambda store: store.jobs(state=QUEUED, integration="a"),
        lambda store: store.open_integrations(),
        lambda store: store.head("a"),
        lambda store: store.state_counts(),
    ],
)
def test_reads_that_look_for_few_jobs_among_many_use_an_index(tmp_path, read):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    for _ in range(3):
        _stored(store, "a", DELIVERED)
    plans = _plans(store, lambda: read(store))
    assert plans
    for plan in plans:
        steps = plan.split(" | ")
        assert "SCAN jobs" not in steps, plan  # every row of the table, read
        assert "SCAN jobs USING COVERING INDEX jobs_open" not in steps, plan


def test_purge_walks_the_jobs_in_stored_order_until_a_whole_batch_is_recent(tmp_path, monkeypatch):
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    monkeypatch.setattr(store, "purge_batch", 2)
    now, day = time.time(), 86400
    first = _stored(store, "a", DELIVERED, now - day)
    future = _stored(store, "a", DELIVERED, now + 10 * day)  # a clock set ahead, then back
    old = [_stored(store, "b", FAILED, now - day), _stored(store, "a", DELIVERED, now - day)]
    recent = [_stored(store, "a", DELIVERED, now), _stored(store, "b", DELIVERED, now)]
    late = _stored(store, "b", DELIVERED, now - day)  # stored after a recent batch
    plans = _plans(store, lambda: store.purge(now - 3600))
    assert all("USING INTEGER PRIMARY KEY" in plan for plan in plans), plans
    assert _ids(store.jobs()) == _ids(reversed([future, *recent, late]))
    assert store.get(first.id) is None and all(store.get(job.id) is None for job in old)
    counted = store.counters()
    assert (counted["received|a|accepted"], counted["received|b|accepted"]) == (4, 3)
    assert store.purge(now + 1) == 3
    assert _ids(store.jobs()) == [future.id]


def test_a_store_made_before_that_is_read_only_still_answers_reads(tmp_path, monkeypatch):
    """A store that may only be read (a read-only mount, a copy to look into) is opened as
    it is: its indexes are changed by the next process that may write it."""
    from host import sqlite_state

    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path)
    jobs = [_stored(store, "a", FAILED), _stored(store, "b", QUEUED)]
    with sqlite3.connect(path) as db:  # the indexes a store made before had
        db.execute("DROP INDEX jobs_taken")
        db.execute("CREATE INDEX jobs_state ON jobs (state, seq)")
        db.execute("CREATE INDEX jobs_received ON jobs (received_at)")
    original = sqlite_state.sqlite3.connect

    def read_only(path, **kwargs):
        return original(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(sqlite_state.sqlite3, "connect", read_only)
    looking = SqliteStateStore(path)
    assert _ids(looking.jobs(state=FAILED)) == [jobs[0].id]
    assert _ids(looking.jobs(state=QUEUED)) == [jobs[1].id]
    assert looking.state_counts() == {FAILED: 1, QUEUED: 1}
    assert "jobs_state" in _indexes_of_jobs(path)
    monkeypatch.undo()
    SqliteStateStore(path)
    assert sorted(_indexes_of_jobs(path)) == ["jobs_open", "jobs_taken", "sqlite_autoindex_jobs_1"]


def test_a_read_only_file_that_holds_no_store_is_unavailable(tmp_path, monkeypatch):
    from host import sqlite_state
    from host.state import StoreUnavailable

    path = tmp_path / "state.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    original = sqlite_state.sqlite3.connect

    def read_only(path, **kwargs):
        return original(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(sqlite_state.sqlite3, "connect", read_only)
    with pytest.raises(StoreUnavailable, match="readonly"):
        SqliteStateStore(path)


def _steps(store: SqliteStateStore, read) -> int:
    """How many steps SQLite's machine takes for ``read``: what a read costs, counted."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    store._connection().set_progress_handler(step, 1)
    try:
        read()
    finally:
        store._connection().set_progress_handler(None, 1)
    return steps


def test_the_newest_jobs_of_an_integration_are_read_without_sorting_all_of_its_jobs(tmp_path):
    """The console's and ``jobs list --integration``'s page: its cost does not grow with
    the integration's jobs (its backlog, the deliveries kept)."""
    few, many = (SqliteStateStore(tmp_path / f"{n}.sqlite3") for n in ("few", "many"))
    for store, count in ((few, 20), (many, 400)):
        for n in range(count):
            _stored(store, "a", (DELIVERED, QUEUED)[n % 2])
        _stored(store, "b", FAILED)
    newest = [job.seq for job in many.jobs(integration="a", limit=3)]
    assert newest == [400, 399, 398]
    cost = [_steps(s, lambda s=s: s.jobs(integration="a", limit=3)) for s in (few, many)]
    assert cost[1] < 2 * cost[0], cost


def test_redis_reads_an_integrations_jobs_in_a_state_a_page_at_a_time(redis_engine, monkeypatch):
    """Not every job of the integration loaded for one page of the console."""
    store = redis_engine.store
    rare = _stored(store, "a", FAILED)
    delivered = [_stored(store, "a", DELIVERED) for _ in range(300)]
    _stored(store, "b", DELIVERED)
    loaded: list[int] = []
    load = store._jobs
    monkeypatch.setattr(store, "_jobs", lambda ids: loaded.append(len(ids)) or load(ids))
    assert _ids(store.jobs(state=DELIVERED, integration="a", limit=2)) == _ids(
        reversed(delivered[-2:])
    )
    assert _ids(store.jobs(state=FAILED, integration="a")) == [rare.id]
    assert _ids(store.jobs(state=DELIVERED, integration="a", limit=1000)) == _ids(
        reversed(delivered)
    )
    assert store.jobs(state=QUEUED, integration="a") == []
    assert sum(loaded[:2]) < 150, loaded


def test_both_engines_purge_the_same_jobs_a_batch_per_write(engine, monkeypatch):
    """Redis walks its jobs as SQLite does: in the order stored, ``purge_batch`` at a
    time, each batch one short script (never one script over every old job, which holds
    Redis up for every other client), until a whole batch was received since the cut-off."""
    store = engine.store
    monkeypatch.setattr(store, "purge_batch", 2)
    now, day = time.time(), 86400
    first = _stored(store, "a", DELIVERED, now - day)
    future = _stored(store, "a", DELIVERED, now + 10 * day)
    waiting = [_stored(store, "b", QUEUED, now - day), _stored(store, "a", RETRYING, now - day)]
    old = [_stored(store, "b", FAILED, now - day), _stored(store, "a", DELIVERED, now - day)]
    recent = [_stored(store, "a", DELIVERED, now), _stored(store, "b", DELIVERED, now)]
    late = _stored(store, "b", DELIVERED, now - day)  # stored after a recent batch
    batches = _count_purge_batches(store, monkeypatch)
    assert store.purge(now - 3600) == 3
    assert len(batches) == 4  # the last one, all recent, stops it
    assert _ids(store.jobs()) == _ids(reversed([future, *waiting, *recent, late]))
    assert store.get(first.id) is None and all(store.get(job.id) is None for job in old)
    counted = store.counters()
    assert (counted["received|a|accepted"], counted["received|b|accepted"]) == (5, 4)
    assert store.purge(now + 1) == 3
    assert _ids(store.jobs()) == _ids(reversed([future, *waiting]))
    assert store.state_counts() == {QUEUED: 1, RETRYING: 1, DELIVERED: 1}
    assert _ids(store.jobs(integration="b")) == [waiting[0].id]


def _count_purge_batches(store, monkeypatch) -> list[int]:
    """One entry per batch a purge looks at: a read on SQLite (then a write when some of
    it is old), a script on Redis."""
    batches: list[int] = []
    name = "_read" if isinstance(store, SqliteStateStore) else "_purge"
    original = getattr(store, name)

    def counted(*args, **kwargs):
        if name == "_purge" or args[0] == sqlite_state._PURGE_LOOK:
            batches.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(store, name, counted)
    return batches
